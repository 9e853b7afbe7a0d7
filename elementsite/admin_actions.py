"""Admin actions that ask before they act: one confirmation page for all of them.

An action that needs the staff member's confirmation (and maybe a form: a reason, an amount)
answers its first POST with `confirm_page`; the page posts the same action back for the same
objects with `apply=yes` and the form's fields, and the action then does its work. The page is
`admin/confirm_action.html`; an action's own template extends it and fills two blocks, the
`intro` (what will happen) and the `objects` (what it will happen to).

`reason_action` is the moderation case: block, take down, hide, each with a reason the owner
sees and the moderation log keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.template.response import TemplateResponse

REASON_MAX = 300


def staff_user(request: HttpRequest) -> AbstractBaseUser:
    """The staff member acting: the admin site lets in only active staff, never an
    anonymous user."""
    return cast(AbstractBaseUser, request.user)


def plural(count: int, word: str) -> str:
    """`1 job`, `2 jobs`: the counts of the admin's messages."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def confirm_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    template: str,
    action: str,
    title: str,
    selected: Sequence[Any],
    css_name: str,
    form: forms.Form | None = None,
    **context: Any,
) -> TemplateResponse:
    """The confirmation page of `action` for the `selected` primary keys: submitting it runs
    the action again with `apply=yes` (and `form`'s fields). `css_name` names the page's body
    class and its form (`<css_name>-form`); `context` is for the template's own blocks."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": model_admin.opts,
            "form": form,
            "selected": list(selected),
            "action": action,
            "css_name": css_name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": model_admin.media,
            **context,
        },
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the owner, and kept in the moderation log.",
    )


def reason_action(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    objects: Sequence[tuple[Any, str]],
    action: str,
    title: str,
    intro: str,
    apply: Callable[[str], None],
) -> TemplateResponse | None:
    """An admin action that asks for a reason first: the form page listing `objects` (pk,
    label), then `apply(reason)` once the staff member confirms with a valid reason."""
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        if form.is_valid():
            apply(form.cleaned_data["reason"])
            return None
    else:
        form = ReasonForm()
    return confirm_page(
        model_admin,
        request,
        template="admin/moderation_reason.html",
        action=action,
        title=title,
        selected=[pk for pk, _label in objects],
        css_name="moderation-reason",
        form=form,
        intro=intro,
        objects=objects,
    )
