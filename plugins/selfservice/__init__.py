"""The self-service pages ("My Alumni Page"): registration, profile update, unregistration.

Server-rendered HTML served by HTTP-triggered functions, in Swedish, Norwegian and English,
with no JavaScript. What the person submits becomes a registration row in Dataverse with
status ``Received``, and the registration pipeline takes over from the Dataverse event. A
registration from the form changes an existing person only once the confirmation link
e-mailed to that person's address on file is followed (docs/security-privacy.md).

- :mod:`.functions`: the triggers (a Blueprint); they only convert requests and responses
  (:mod:`.web` holds the plain request and response values) and build the pages once per
  settings (:mod:`.runtime`).
- :mod:`.pages`: what each page does; :mod:`.frame`: language, session cookie, security
  headers and the page frame every answer shares.
- :mod:`.store`: every Dataverse read and write, through the one Dataverse client
  (:mod:`.confirmations`: those of confirming a registration).
- :mod:`.forms`, :mod:`.i18n`, :mod:`.signing`, :mod:`.csrf`, :mod:`.ratelimit`,
  :mod:`.contrast`, :mod:`.headers`: pure building blocks; :mod:`.rendering` fills the
  Jinja2 templates (autoescaped).
- :mod:`.oidc`: optional sign-in with an OpenID Connect provider to prefill name and e-mail.
"""
