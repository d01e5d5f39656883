"""all-MiniLM-L6-v2 run as a traced TorchScript graph: sentence-transformers' vectors, for less CPU.

``SentenceTransformer.encode`` walks BERT module by module in Python. For the short texts of chat
queries that interpretive overhead costs more than the matrix work, and it holds the GIL the
web server's event loop needs. Tracing the transformer once per process turns the forward pass
into one TorchScript graph; the tokenizer, mean pooling over the attention mask and L2
normalization stay exactly the sentence-transformers pipeline of this model. The tests compare
the vectors with ``SentenceTransformer.encode`` on real data (queries and long FAQ answers, padded
batches) to float32 rounding. On this machine a one-query batch costs about a third of
``encode`` (README "Benchmarks").

``dtype=torch.bfloat16`` traces a bfloat16 copy of the weights (the fp32 model is left as it was)
and freezes the graph so oneDNN prepacks the weights once for the CPU's matrix units (AMX): every
matrix product and activation runs in bf16, pooling and normalization in fp32.

``pad_to_multiple`` pads each batch to a width that is a multiple of it (positions the attention
mask hides, so the vectors do not change): oneDNN builds kernels for each new input shape, and with
16 a passage ingest meets 16 widths up to the model's 256 instead of up to 256 of them, and fills
AMX's 16-row tiles (docs/retrieval.md "Ingest throughput", session 10).
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

# The pipeline this encoder reproduces (the packaged model's); any other is refused at load time
# (UnsupportedPipeline) rather than embedded differently.
EXPECTED_MODULES = ("Transformer", "Pooling", "Normalize")
# Traced on a padded batch so the attention-mask path is part of the graph.
TRACE_EXAMPLE = ["traced", "on a padded batch of two texts of different lengths"]


@contextmanager
def _transformers_quiet() -> Iterator[None]:
    """transformers' warnings (its own handler writes them to stderr) held back meanwhile."""
    library = logging.getLogger("transformers")
    level = library.level
    library.setLevel(logging.ERROR)
    try:
        yield
    finally:
        library.setLevel(level)


class UnsupportedPipeline(Exception):
    """The SentenceTransformer is not Transformer → mean Pooling → Normalize."""


class TracedEncoder:
    def __init__(
        self, sentence_transformer: Any, *, dtype: torch.dtype = torch.float32, pad_to_multiple: int = 1
    ) -> None:
        if pad_to_multiple < 1:
            raise ValueError(f"pad_to_multiple must be at least 1; got {pad_to_multiple}")
        modules = tuple(type(module).__name__ for module in sentence_transformer)
        pooling = sentence_transformer[1].get_config_dict().get("pooling_mode") if len(modules) > 1 else None
        if modules != EXPECTED_MODULES or pooling != "mean":
            raise UnsupportedPipeline(f"expected {EXPECTED_MODULES} with mean pooling, got {modules} ({pooling})")
        self._tokenizer = sentence_transformer.tokenizer
        self._max_length = int(sentence_transformer.max_seq_length)
        self._pad_id = int(self._tokenizer.pad_token_id)
        self._pad_to_multiple = pad_to_multiple
        transformer = sentence_transformer[0].auto_model.eval()
        if dtype != torch.float32:
            transformer = copy.deepcopy(transformer).to(dtype)
        example = self._padded(self._pieces(TRACE_EXAMPLE))
        with torch.inference_mode(), warnings.catch_warnings(), _transformers_quiet():
            # Shape-dependent branches become constants; the vectors are checked against encode().
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            # TorchScript is deprecated for torch.compile, which needs a C++ toolchain and compiles
            # for minutes per shape family: no fit for a model loaded by every process.
            warnings.simplefilter("ignore", DeprecationWarning)
            # The tracer looks at every attribute of the model, properties included: transformers
            # answers with a FutureWarning (is_gradient_checkpointing) and a warning about a training
            # loss (loss_type=None) that say nothing about embedding, on the stderr of every process.
            warnings.simplefilter("ignore", FutureWarning)
            graph = torch.jit.trace(transformer, example, strict=False, check_trace=False)
            # Freezing pays in bf16 (weights prepacked for AMX) but not in fp32 (measured slower).
            self._graph = graph if dtype == torch.float32 else torch.jit.freeze(graph.eval())

    def _pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's word-piece ids, [CLS] and [SEP] included, cut at the model's maximum."""
        encoded = self._tokenizer(
            list(texts),
            truncation=True,
            max_length=self._max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return [list(ids) for ids in encoded["input_ids"]]

    def _padded(self, pieces: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The model's inputs for a batch: ids right-padded to the longest (rounded up to a multiple
        of ``pad_to_multiple``, never past the model's maximum unless a row is), its mask, one segment."""
        longest = max(len(row) for row in pieces)
        rounded = -(-longest // self._pad_to_multiple) * self._pad_to_multiple
        width = min(rounded, max(longest, self._max_length))
        input_ids = torch.full((len(pieces), width), self._pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(pieces), width), dtype=torch.long)
        for position, row in enumerate(pieces):
            input_ids[position, : len(row)] = torch.tensor(row, dtype=torch.long)
            attention_mask[position, : len(row)] = 1
        return input_ids, attention_mask, torch.zeros_like(input_ids)

    def _forward(self, pieces: Sequence[Sequence[int]]) -> torch.Tensor:
        """Unit vectors of already tokenised texts."""
        input_ids, attention_mask, token_type_ids = self._padded(pieces)
        output = self._graph(input_ids, attention_mask, token_type_ids)
        tokens = (output["last_hidden_state"] if isinstance(output, dict) else output[0]).float()
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def encode(self, texts: Sequence[str], *, batch_size: int) -> list[list[float]]:
        """Unit vectors for ``texts`` in order. All texts are tokenised at once and batched by
        word-piece count, so a batch pads to within a few pieces of each text (sorting by characters
        padded covid-faq children by 15 %, by pieces 3.5 %)."""
        if not texts:
            return []
        pieces = self._pieces(texts)
        order = sorted(range(len(texts)), key=lambda i: len(pieces[i]), reverse=True)
        vectors: list[list[float]] = [[] for _ in texts]
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                for index, vector in zip(chunk, self._forward([pieces[i] for i in chunk]).tolist(), strict=True):
                    vectors[index] = vector
        return vectors
