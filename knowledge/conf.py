"""Knowledge settings, read from the environment through the strict helpers of ``supportai.env``.

Kept in the app (not in ``supportai/settings.py``) so the retrieval knobs live next to the code that
uses them. Every value is validated at import: a malformed variable stops the process with its name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from supportai.env import env_int, env_str

FUSION_METHODS = frozenset({"rrf", "convex"})


def _env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}") from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}; got {value}")
    return value


@dataclass(frozen=True)
class KnowledgeSettings:
    embedding_provider: str
    embedding_model: str
    # The vector column is vector(384): providers are asked for this many dimensions.
    embedding_dimensions: int
    parent_tokens: int
    parent_overlap: int
    child_tokens: int
    child_overlap: int
    bm25_k1: float
    bm25_b: float
    # Title lexemes count this many times in each child (a BM25F-style field weight).
    title_weight: int
    fusion: str
    max_upload_bytes: int
    rerank_provider: str
    # Intra-op threads of the local embedding model (serving: 1; ingestion commands take --threads).
    torch_threads: int


def load() -> KnowledgeSettings:
    fusion = env_str("KNOWLEDGE_FUSION", "convex")
    if fusion not in FUSION_METHODS:
        raise ImproperlyConfigured(f"KNOWLEDGE_FUSION must be one of rrf, convex; got {fusion!r}")
    parent_tokens = env_int("KNOWLEDGE_PARENT_TOKENS", 350, minimum=64, maximum=2000)
    child_tokens = env_int("KNOWLEDGE_CHILD_TOKENS", 128, minimum=32, maximum=200)
    return KnowledgeSettings(
        embedding_provider=env_str("KNOWLEDGE_EMBEDDING_PROVIDER", "local"),
        embedding_model=env_str("KNOWLEDGE_EMBEDDING_MODEL", ""),
        embedding_dimensions=384,
        parent_tokens=parent_tokens,
        parent_overlap=env_int("KNOWLEDGE_PARENT_OVERLAP", 60, minimum=0, maximum=parent_tokens // 2),
        child_tokens=child_tokens,
        child_overlap=env_int("KNOWLEDGE_CHILD_OVERLAP", 20, minimum=0, maximum=child_tokens // 2),
        bm25_k1=_env_float("KNOWLEDGE_BM25_K1", 1.2, minimum=0.0, maximum=10.0),
        bm25_b=_env_float("KNOWLEDGE_BM25_B", 0.75, minimum=0.0, maximum=1.0),
        title_weight=env_int("KNOWLEDGE_BM25_TITLE_WEIGHT", 3, minimum=1, maximum=5),
        fusion=fusion,
        max_upload_bytes=env_int("KNOWLEDGE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024),
        rerank_provider=env_str("KNOWLEDGE_RERANK_PROVIDER", ""),
        torch_threads=env_int("KNOWLEDGE_TORCH_THREADS", 1, minimum=1, maximum=256),
    )


SETTINGS = load()
