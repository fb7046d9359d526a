"""Member and alumni plugins for Dynamics 365 / Dataverse, as Azure Functions."""
