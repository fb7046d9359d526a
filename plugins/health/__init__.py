"""``GET /api/health``: are the settings, the sign-in and Dataverse in order?"""
