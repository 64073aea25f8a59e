from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CocreateConfig(AppConfig):
    name = "cocreate"
    verbose_name = _("cocreate core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cocreate.authentication import receivers_connect
        from cocreate.signals import after_migrate

        receivers_connect()

        # Connected to the last app that migrates, so that every permission and Wagtail table exists.
        post_migrate.connect(after_migrate, dispatch_uid="cocreate-after-migrate")
