"""Session NPS answers keep the respondent's organisation and tier as they were when answering.

Answers given before the fields existed are backfilled, as well as the data allows, with the respondent's
organisation and its tier today."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    NpsResponse = apps.get_model("boards", "NpsResponse")
    Organisation = apps.get_model("cocreate", "Organisation")
    User = apps.get_model("cocreate", "User")
    tiers = dict(Organisation.objects.values_list("pk", "tier"))
    organisations = dict(
        User.objects.filter(pk__in=NpsResponse.objects.values("user_id")).values_list("pk", "organisation_id")
    )
    batch = []
    for response in NpsResponse.objects.filter(organisation__isnull=True).only("pk", "user_id"):
        organisation_id = organisations.get(response.user_id)
        if organisation_id is not None:
            response.organisation_id = organisation_id
            response.tier = tiers.get(organisation_id, "")
            batch.append(response)
    NpsResponse.objects.bulk_update(batch, ["organisation", "tier"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0003_board_public_page'),
        ('cocreate', '0003_surveys'),
    ]

    operations = [
        migrations.AddField(
            model_name='npsresponse',
            name='organisation',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cocreate.organisation'),
        ),
        migrations.AddField(
            model_name='npsresponse',
            name='tier',
            field=models.CharField(blank=True, max_length=10, verbose_name='tier'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
