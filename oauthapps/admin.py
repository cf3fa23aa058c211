"""OAuth clients and tokens in the admin.

django-oauth-toolkit registers its own admin classes for the swapped client model (``OAuthClient``)
and for tokens, grants and ID tokens; they are kept until the OAuth client admin of the portal lands.
"""
