"""The back office's admin holds gateway data only.

Django's own users and groups are not managed here: staff are gateway users (roles come from
``user.role``) and break-glass superusers are created with ``manage.py createsuperuser``.
"""

from django.contrib import admin
from django.contrib.auth.models import Group, User

admin.site.unregister(Group)
admin.site.unregister(User)
