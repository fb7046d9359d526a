"""OData v4 query options as Dataverse understands them.

``$filter`` is lexed (:mod:`.lexer`), parsed into an AST (:mod:`.nodes`, :mod:`.parser`) and
compiled once into a plain Python predicate (:mod:`.compiler`, :mod:`.crmfunctions`) over
property resolvers (:mod:`.fields`). :mod:`.options` reads ``$select``, ``$orderby``,
``$expand`` and ``$top``; :mod:`.ordering` sorts rows the way SQL Server does;
:mod:`.skiptoken` writes and reads the opaque paging cookie; :mod:`.catalog` precomputes what
each table of a store exposes (properties, navigation properties).
"""
