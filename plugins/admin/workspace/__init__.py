"""The alumni office's workspace in Dataverse, shipped as one solution: publisher, solution,
review team, forms, views, site map, model-driven app and security roles.

:mod:`.components` says what should exist (pure), :mod:`.plan` compares it with what the
environment has (pure), :mod:`.provision` reads the environment and applies the plan.
"""
