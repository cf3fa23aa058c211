"""The staff screens of accounts, one module per concept (``accounts.<concept>.admin``); importing them here
registers them when Django's admin looks for ``accounts.admin``."""

from accounts.invitations import admin as invitations_admin  # noqa: F401
from accounts.memberships import admin as memberships_admin  # noqa: F401
from accounts.organizations import admin as organizations_admin  # noqa: F401
from accounts.people import admin as people_admin  # noqa: F401
