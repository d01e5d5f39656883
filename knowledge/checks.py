"""System checks of the knowledge app's configuration: a hosted embedding provider (``knowledge.W001``)
or reranker (``knowledge.W002``) configured without its API key. Warnings, as ``routing``'s checks: the
site still starts, search answering by keywords alone (the reranker: in fused order), while the
commands that embed refuse to run and uploaded documents fail to index, each saying which variable
to set."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from knowledge import conf
from knowledge.providers.base import EMBEDDING_KEYS, EMBEDDING_SETTING, RERANK_KEYS, RERANK_SETTING, missing_key
from supportai.env import env_str

WITHOUT_EMBEDDINGS = (
    "Until then search answers by keywords alone, uploaded documents fail to index, and ingest, reindex, "
    "evaluate_retrieval, tune_retrieval and sync_sources refuse to run."
)
WITHOUT_RERANKING = "Until then passages keep their fused order."


@register()
def check_provider_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    settings = conf.SETTINGS
    warnings: list[CheckMessage] = []
    for setting, name, keys, check_id, consequence in (
        (EMBEDDING_SETTING, settings.embedding_provider, EMBEDDING_KEYS, "knowledge.W001", WITHOUT_EMBEDDINGS),
        (RERANK_SETTING, settings.rerank_provider, RERANK_KEYS, "knowledge.W002", WITHOUT_RERANKING),
    ):
        variable = keys.get(name)
        if variable and not env_str(variable):
            warnings.append(Warning(f"{missing_key(name, setting=setting)}.", hint=consequence, id=check_id))
    return warnings
