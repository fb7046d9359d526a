"""The Function App's composition root: set up logging, create the app, register each
plugin's blueprint.

Nothing else belongs here; every trigger lives in its plugin's ``functions.py``.
"""

import azure.functions as func

from plugins.core.logging import configure_logging
from plugins.dues.functions import blueprint as dues
from plugins.health.functions import blueprint as health
from plugins.registration.functions import blueprint as registration
from plugins.selfservice.account_functions import blueprint as account
from plugins.selfservice.functions import blueprint as selfservice
from plugins.sync.functions import blueprint as sync

configure_logging()
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health)
app.register_functions(registration)
app.register_functions(selfservice)
app.register_functions(sync)
app.register_functions(dues)
app.register_functions(account)
