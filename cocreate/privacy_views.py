"""Pages for a person's own data: download it, or delete the account (after typing the e-mail address)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cocreate import privacy
from cocreate.errors import DomainError
from cocreate.models import User


class DeleteConfirmForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Type your e-mail address to confirm"))

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.user = user

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if email.strip().lower() != self.user.email.lower():
            raise forms.ValidationError(_("This is not the e-mail address of your account."))
        return email


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "cocreate/privacy/index.html")


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    response = HttpResponse(privacy.user_data_export_json(user=user), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cocreate-data-{user.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def delete(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DeleteConfirmForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.user_delete(user=user)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            logout(request)
            messages.success(request, _("Your account was deleted."))
            return redirect("/")
    return render(request, "cocreate/privacy/delete.html", {"form": form}, status=400 if form.errors else 200)
