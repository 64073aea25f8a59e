"""The insights page (product managers and staff only), its CSV exports, and the survey answer page."""

from __future__ import annotations

import csv
import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from cocreate.errors import ConflictError, DomainError, NotFoundError
from cocreate.insights import surveys
from cocreate.insights.figures import chart_by_key, chart_csv_rows, chart_table, charts_build, figures_for
from cocreate.insights.forms import InsightFiltersForm, SurveyAnswerForm
from cocreate.roles import Role, has_role


def can_see_insights(user: Any) -> bool:
    """Product managers and staff (superusers included); never customers or board members."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser) or has_role(user, Role.PRODUCT_MANAGER)


def _require_insights(request: HttpRequest) -> None:
    if not can_see_insights(request.user):
        raise PermissionDenied(_("Insights are for product managers and staff."))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    _require_insights(request)
    form = InsightFiltersForm.from_query(request.GET)
    if not form.is_valid():
        return render(request, "cocreate/insights/index.html", {"form": form, "charts": []}, status=400)
    figures = figures_for(form.filters())
    charts = charts_build(figures)
    query = request.GET.urlencode()
    return render(
        request,
        "cocreate/insights/index.html",
        {
            "form": form,
            "charts": [{"chart": chart, "table": chart_table(chart)} for chart in charts],
            "chart_data": {chart.key: chart.chart for chart in charts if not chart.empty},
            "query": query,
            "computed_at": datetime.datetime.fromisoformat(figures["computed_at"]),
        },
    )


@login_required
def export_csv(request: HttpRequest, key: str) -> HttpResponse:
    _require_insights(request)
    form = InsightFiltersForm.from_query(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "\n".join(f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters()
    chart = chart_by_key(figures_for(filters), key)
    if chart is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cocreate-{key}-{filters.start}-{filters.end}.csv"'
    writer = csv.writer(response)
    for row in chart_csv_rows(chart):
        writer.writerow([_csv_safe(cell) for cell in row])
    return response


def _csv_safe(value: Any) -> Any:
    """Campaign, board and idea titles come from people: keep a spreadsheet from reading them as formulas."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """Answer a survey from its e-mailed link; no login needed (the signed link is the credential), but a
    signed-in person may only use their own link."""
    try:
        invitation = surveys.survey_invitation_from_token(token)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        return render(request, "cocreate/insights/survey_closed.html", {"message": exc.message}, status=410)
    if request.user.is_authenticated and request.user.pk != invitation.user_id:
        raise PermissionDenied(_("This survey link was sent to someone else."))
    if invitation.answered_at is not None:
        message = _("You have already answered this survey. Thank you!")
        return render(request, "cocreate/insights/survey_closed.html", {"message": message}, status=409)
    question = surveys.survey_question(invitation.survey)
    form = SurveyAnswerForm(request.POST or None, survey=invitation.survey, question=question)
    if request.method == "POST" and form.is_valid():
        try:
            surveys.survey_answer(
                invitation=invitation, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
            )
        except ConflictError as exc:
            return render(request, "cocreate/insights/survey_closed.html", {"message": exc.message}, status=409)
        except DomainError as exc:
            form.add_error("score", exc.message)
        else:
            return render(request, "cocreate/insights/survey_thanks.html", {"survey": invitation.survey})
    status = 400 if request.method == "POST" else 200
    return render(request, "cocreate/insights/survey.html", {"form": form, "survey": invitation.survey}, status=status)
