"""allauth glue: new accounts join their organisation by e-mail domain, start as customers, and keep the language
they signed up in (notifications and e-mails are written in the recipient's preferred language)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from cocreate import services


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        language = translation.get_language()
        if not user.preferred_language and language in dict(settings.LANGUAGES):
            user.preferred_language = language
        if commit:
            user.save()
            services.user_onboard(user=user)
        return user
