"""POST /api/ideas/ takes images as multipart/form-data, with the web form's type and size checks."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ideas import services
from ideas.models import Idea, IdeaImage
from tests.conftest import api_client_for
from tests.ideas.factories import campaign_create

pytestmark = pytest.mark.django_db


def _png(name: str = "dock.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _body(campaign, **extra):
    return {
        "campaign": campaign.pk,
        "title": "Solar panels on the dock",
        "summary": "Charge forklifts from the roof.",
        "description": "<p>The roof is sunny.</p>",
        "terms_accepted": "true",
        "tags": ["energy"],
        **extra,
    }


def test_images_sent_as_multipart_are_stored_with_the_idea(site, customer):
    campaign = campaign_create(parent=site)
    response = api_client_for(customer).post(
        "/api/ideas/", _body(campaign, images=[_png("a.png"), _png("b.png")]), format="multipart"
    )
    assert response.status_code == 201, response.content
    idea = Idea.objects.get(pk=response.json()["id"])
    assert IdeaImage.objects.filter(idea=idea).count() == 2
    assert idea.tags.get().name == "energy"


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("a.png", b"<?php echo 1; ?>", content_type="image/png"),
        SimpleUploadedFile("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/svg+xml"),
    ],
)
def test_a_file_that_is_not_an_accepted_image_is_a_400_and_nothing_is_stored(site, customer, upload):
    campaign = campaign_create(parent=site)
    response = api_client_for(customer).post("/api/ideas/", _body(campaign, images=[upload]), format="multipart")
    assert response.status_code == 400, response.content
    assert not Idea.objects.exists()
    assert not IdeaImage.objects.exists()


def test_an_oversize_image_is_a_400(site, customer, monkeypatch):
    monkeypatch.setattr(services, "IMAGE_BYTES_MAX", 10)
    campaign = campaign_create(parent=site)
    response = api_client_for(customer).post("/api/ideas/", _body(campaign, images=[_png()]), format="multipart")
    assert response.status_code == 400, response.content
    assert not Idea.objects.exists()


def test_more_images_than_allowed_is_a_400(site, customer):
    campaign = campaign_create(parent=site)
    images = [_png(f"{n}.png") for n in range(services.IMAGES_MAX + 1)]
    response = api_client_for(customer).post("/api/ideas/", _body(campaign, images=images), format="multipart")
    assert response.status_code == 400
    assert not Idea.objects.exists()


def test_the_schema_offers_multipart_with_images_for_submitting(site):
    schema = json.loads(api_client_for(None).get("/api/schema/?format=json").content)
    body = schema["paths"]["/api/ideas/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    reference = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    images = schema["components"]["schemas"][reference]["properties"]["images"]
    assert images["type"] == "array"
    assert images["items"]["format"] == "binary"
