"""The knowledge console's forms: upload, website source, the documents filter and test retrieval."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.http import QueryDict

from knowledge.languages import DEFAULT_LANGUAGE, ISO_639_1_CODES, LANGUAGE_MAX_LENGTH, NOT_A_LANGUAGE, SEARCH_CONFIGS
from knowledge.models import DocumentStatus, KnowledgeSource
from knowledge.retrieval import MODES
from knowledge.source_config import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_PAGES,
    NAME_MAX_LENGTH,
    PREFIX_MAX_LENGTH,
    URL_MAX_LENGTH,
    SourceConfigError,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _any_case(word: str) -> str:
    return "".join(f"[{char.upper()}{char}]" if char.isalpha() else re.escape(char) for char in word)


# What ``clean_language`` accepts, for the browser to check before it sends the files: refused by
# the server, the upload would make the user choose them all again.
LANGUAGE_PATTERN = (
    r"\s*(?:(?:"
    + "|".join(_any_case(code) for code in sorted(ISO_639_1_CODES))
    + r"|(?!(?:"
    + "|".join(_any_case(code) for code in sorted(NOT_A_LANGUAGE))
    + r")(?![A-Za-z]))[A-Za-z]{3})(?:[\-_][A-Za-z0-9]{1,8})*|"
    + "|".join(_any_case(name) for name in sorted(SEARCH_CONFIGS))
    + r")\s*"
)


class UploadForm(forms.Form):
    # Its hint (the page's, naming the site's file limit) is read with it.
    upload = forms.FileField(
        label="Files", widget=MultipleFileInput(attrs={"multiple": True, "aria-describedby": "id_upload_helptext"})
    )
    language = forms.CharField(
        label="Language of files that declare none",
        initial=DEFAULT_LANGUAGE,
        max_length=LANGUAGE_MAX_LENGTH,
        required=False,
        help_text="A tag such as en, de or pt-BR; it chooses their stemming for keyword search.",
        widget=forms.TextInput(
            attrs={"pattern": LANGUAGE_PATTERN, "title": "A language tag such as en, de or pt-BR, or a name: German"}
        ),
    )


def _url_input() -> forms.TextInput:
    # Not type="url": the browser's own check would hide our message for "help.example.com".
    return forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://help.example.com/"})


class UrlSourceForm(forms.Form):
    """A website source's name and settings. Only types and sizes are checked here; the rules are
    those of ``url_source_create`` / ``url_source_update`` (the REST API's too), whose
    ``SourceConfigError`` lands on the field it names (``add_config_error``)."""

    CONFIG_FIELDS = ("start_url", "sitemap_url", "path_prefix", "max_pages", "max_depth", "sync_interval_minutes")

    name = forms.CharField(max_length=NAME_MAX_LENGTH)
    start_url = forms.CharField(
        label="Start URL",
        max_length=URL_MAX_LENGTH,
        required=False,
        widget=_url_input(),
        help_text="Crawl from this page, following links on the same host. Set this or a sitemap URL.",
    )
    sitemap_url = forms.CharField(
        label="Sitemap URL",
        max_length=URL_MAX_LENGTH,
        required=False,
        widget=_url_input(),
        help_text="Or read the pages listed in this sitemap.xml.",
    )
    path_prefix = forms.CharField(
        label="Path prefix",
        max_length=PREFIX_MAX_LENGTH,
        required=False,
        help_text="Only pages under this path, e.g. /help/. Empty: the whole host.",
    )
    max_pages = forms.IntegerField(
        label="Max pages", required=False, help_text=f"Empty: {DEFAULT_MAX_PAGES} (or the site-wide ceiling)."
    )
    max_depth = forms.IntegerField(
        label="Max link depth", required=False, help_text=f"Crawls only. Empty: {DEFAULT_MAX_DEPTH}."
    )
    sync_interval_minutes = forms.IntegerField(
        label="Resync every (minutes)", required=False, help_text="0: only on demand. Empty: the default."
    )
    sync_now = forms.BooleanField(label="Sync now", required=False)

    def config(self) -> dict[str, Any]:
        """The filled-in settings; an empty field takes the service's default."""
        return {key: value for key in self.CONFIG_FIELDS if (value := self.cleaned_data.get(key)) not in (None, "")}

    def add_config_error(self, exc: SourceConfigError) -> None:
        """``exc`` on the field it names, else on the form. Its message, written for the REST API,
        names settings by key ("max_depth must be ..."): here by the labels the form shows ("Max
        link depth must be ..."). A field's own error echoes the value typed, so only its leading
        key is replaced; a rule about several settings echoes none, so each key it names is."""
        message = str(exc)
        if exc.field in self.fields:
            if message.startswith(f"{exc.field} "):
                message = f"{self[exc.field].label}{message.removeprefix(exc.field)}"
            self.add_error(exc.field, message)
            return
        for key in self.CONFIG_FIELDS:
            message = re.sub(rf"\b{key}\b", str(self[key].label), message)
        self.add_error(None, message)


class DocumentFilterForm(forms.Form):
    """The documents table's filters (a GET form); a value that is no choice (another tenant's source
    id, no such status) filters nothing."""

    status = forms.ChoiceField(choices=[("", "Any"), *DocumentStatus.choices], required=False)
    source = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)

    def __init__(self, data: QueryDict, *, sources: Iterable[KnowledgeSource]) -> None:
        super().__init__(data)
        source_field = cast(forms.TypedChoiceField, self.fields["source"])
        source_field.choices = [("", "Any"), *((source.pk, source.name) for source in sources)]

    def chosen(self) -> dict[str, Any]:
        """The valid filters that are set, by name."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


QUERY_MAX_CHARS = 2000
QUERY_TOO_LONG = (
    "The query has {length:,} characters; test retrieval takes up to {limit:,}. Shorten it and search again."
)


class SearchForm(forms.Form):
    # No max_length: its maxlength attribute made the browser cut a longer query (a pasted e-mail)
    # unseen, and search with its start; ``clean_q`` refuses it whole, saying so.
    q = forms.CharField(label="Query")
    mode = forms.ChoiceField(choices=[(mode, mode) for mode in MODES], initial="hybrid")
    k = forms.IntegerField(label="Passages to show", min_value=1, max_value=20, initial=5)

    def clean_q(self) -> str:
        query: str = self.cleaned_data["q"]
        if len(query) > QUERY_MAX_CHARS:
            raise forms.ValidationError(QUERY_TOO_LONG.format(length=len(query), limit=QUERY_MAX_CHARS))
        return query
