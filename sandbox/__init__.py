"""A loopback stand-in for Dataverse and the Nordic registries (never deployed).

It is to this product what Azurite is to Azure Storage: tests, the demo and the benchmarks
talk to it over real HTTP on 127.0.0.1, and it keeps Dataverse's wire contracts.
"""
