"""Knowledge settings, read from the environment through the strict helpers of ``supportai.env``.

Kept in the app (not in ``supportai/settings.py``) so the retrieval knobs live next to the code that
uses them. Every value is validated at import: a malformed variable stops the process with its name.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.pdf_reading import PDF_READ_SECONDS
from knowledge.providers.base import EMBEDDING_PROVIDERS, LOCAL_MODEL_NAME, RERANK_PROVIDERS, UNKNOWN_LOCAL_MODEL
from supportai.env import ConfigurationError, env_bool, env_choice, env_int, env_str

FUSION_METHODS = frozenset({"rrf", "convex"})
PRECISIONS = frozenset({"auto", "fp32", "bf16"})
# robots.txt groups match on the product token before the slash: "SupportAI-KnowledgeBot".
DEFAULT_USER_AGENT = "SupportAI-KnowledgeBot/1.0 (help-centre indexer; honours robots.txt)"
# An upload's multipart framing (a boundary and headers per file, names of up to 255 characters) and
# its form fields (CSRF token, language, source), beside its files: a request may carry at least one
# file of the largest size and this.
UPLOAD_FORM_OVERHEAD_BYTES = 262_144
# One upload request's default limit: a batch of a help-centre folder (40 PDFs of 2.5 MB; 100 files
# of 1 MB, the console's most), still refused as it arrives long before it strains memory or disk.
MAX_UPLOAD_REQUEST_BYTES = 100 * 1024 * 1024
REQUEST_BELOW_ONE_FILE = (
    "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES must be at least KNOWLEDGE_MAX_UPLOAD_BYTES plus 262144 bytes for "
    "the form ({least}), so that a file of the largest size fits one request; got {got}"
)
# The longest resync interval a URL source may hold (a year): KNOWLEDGE_URL_SYNC_INTERVAL_MINUTES too.
MAX_SYNC_INTERVAL_MINUTES = 365 * 24 * 60


def _env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number; got {raw!r}") from exc
    if not minimum <= value <= maximum:
        raise ConfigurationError(f"{name} must be between {minimum} and {maximum}; got {value}")
    return value


@dataclass(frozen=True)
class KnowledgeSettings:
    embedding_provider: str
    embedding_model: str
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
    # The most bytes one upload request (its files and form) may carry: daphne refuses a larger one as
    # it arrives (supportai/daphne_setup.py), the upload views before reading it on other servers.
    max_upload_request_bytes: int
    # How long one PDF may be read (knowledge/pdf_reading.py): its reader is stopped past it.
    pdf_read_seconds: int
    rerank_provider: str
    # Intra-op threads of the local embedding model (serving: 1; ingestion commands take --threads).
    torch_threads: int
    # Number format of the local model when it embeds passages (queries always use fp32): "auto"
    # (default) takes bf16 where the CPU multiplies bf16 natively (AMX / AVX512-BF16), else fp32.
    # bf16 ingests ~2.5x faster there with vectors at cosine >= 0.9999 to fp32 and the same
    # retrieval quality (docs/retrieval.md "Ingest throughput").
    local_passage_precision: str
    # URL sources (knowledge.crawling and the modules it reads pages with): who we say we are, how long
    # and how much we wait for a page.
    crawl_user_agent: str
    crawl_timeout_s: int
    crawl_max_page_bytes: int
    # Ceiling for a source's page limit.
    crawl_max_pages: int
    # How long one sync of a URL source may run: a slow or hostile site holds a worker no longer.
    crawl_sync_max_s: int
    # Off in production: a source URL resolving to a private/loopback/link-local address is refused.
    crawl_allow_private: bool
    # Resync interval of a URL source that does not set its own (0: only on demand).
    url_sync_interval_minutes: int
    warm_up: bool
    # A document pending this long since it was queued lost its task: the beat sweep queues it again.
    stuck_pending_minutes: int
    # Serving's limit on each retrieval statement (0: none); see knowledge/timeouts.py.
    retrieval_timeout_ms: int


def load() -> KnowledgeSettings:
    parent_tokens = env_int("KNOWLEDGE_PARENT_TOKENS", 350, minimum=64, maximum=2000)
    child_tokens = env_int("KNOWLEDGE_CHILD_TOKENS", 128, minimum=32, maximum=200)
    embedding_provider = env_choice("KNOWLEDGE_EMBEDDING_PROVIDER", "local", EMBEDDING_PROVIDERS)
    embedding_model = env_str("KNOWLEDGE_EMBEDDING_MODEL", "")
    max_upload_bytes = env_int("KNOWLEDGE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
    # A request must take at least one file of the largest size; the default grows with it.
    one_file_request = max_upload_bytes + UPLOAD_FORM_OVERHEAD_BYTES
    max_upload_request_bytes = env_int(
        "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES", max(MAX_UPLOAD_REQUEST_BYTES, one_file_request), minimum=0
    )
    if max_upload_request_bytes < one_file_request:
        raise ConfigurationError(REQUEST_BELOW_ONE_FILE.format(least=one_file_request, got=max_upload_request_bytes))
    if embedding_provider == "local" and embedding_model not in ("", LOCAL_MODEL_NAME):
        raise ConfigurationError(UNKNOWN_LOCAL_MODEL.format(model=embedding_model, only=LOCAL_MODEL_NAME))
    return KnowledgeSettings(
        embedding_provider=embedding_provider,
        embedding_model=embedding_model,
        parent_tokens=parent_tokens,
        parent_overlap=env_int("KNOWLEDGE_PARENT_OVERLAP", 60, minimum=0, maximum=parent_tokens // 2),
        child_tokens=child_tokens,
        child_overlap=env_int("KNOWLEDGE_CHILD_OVERLAP", 20, minimum=0, maximum=child_tokens // 2),
        bm25_k1=_env_float("KNOWLEDGE_BM25_K1", 1.2, minimum=0.0, maximum=10.0),
        bm25_b=_env_float("KNOWLEDGE_BM25_B", 0.75, minimum=0.0, maximum=1.0),
        title_weight=env_int("KNOWLEDGE_BM25_TITLE_WEIGHT", 3, minimum=1, maximum=5),
        fusion=env_choice("KNOWLEDGE_FUSION", "convex", FUSION_METHODS),
        max_upload_bytes=max_upload_bytes,
        max_upload_request_bytes=max_upload_request_bytes,
        pdf_read_seconds=env_int("KNOWLEDGE_PDF_READ_SECONDS", PDF_READ_SECONDS, minimum=1, maximum=3600),
        rerank_provider=env_choice("KNOWLEDGE_RERANK_PROVIDER", "", {"", *RERANK_PROVIDERS}),
        torch_threads=env_int("KNOWLEDGE_TORCH_THREADS", 1, minimum=1, maximum=256),
        local_passage_precision=env_choice("KNOWLEDGE_LOCAL_PASSAGE_PRECISION", "auto", PRECISIONS),
        crawl_user_agent=env_str("KNOWLEDGE_CRAWL_USER_AGENT", DEFAULT_USER_AGENT),
        crawl_timeout_s=env_int("KNOWLEDGE_CRAWL_TIMEOUT_S", 10, minimum=1, maximum=120),
        crawl_max_page_bytes=env_int("KNOWLEDGE_CRAWL_MAX_PAGE_BYTES", 2 * 1024 * 1024, minimum=1024),
        crawl_max_pages=env_int("KNOWLEDGE_CRAWL_MAX_PAGES", 1000, minimum=1, maximum=100_000),
        crawl_sync_max_s=env_int("KNOWLEDGE_CRAWL_SYNC_MAX_S", 3600, minimum=1),
        crawl_allow_private=env_bool("KNOWLEDGE_CRAWL_ALLOW_PRIVATE", False),
        url_sync_interval_minutes=env_int(
            "KNOWLEDGE_URL_SYNC_INTERVAL_MINUTES", 24 * 60, minimum=0, maximum=MAX_SYNC_INTERVAL_MINUTES
        ),
        warm_up=env_bool("KNOWLEDGE_WARM_UP", True),
        # Above the longest wait of a retried task (Retry-After up to 10 minutes, then the work itself).
        stuck_pending_minutes=env_int("KNOWLEDGE_STUCK_PENDING_MINUTES", 30, minimum=15, maximum=7 * 24 * 60),
        retrieval_timeout_ms=env_int("KNOWLEDGE_RETRIEVAL_TIMEOUT_MS", 2000, minimum=0, maximum=600_000),
    )


SETTINGS = load()
