"""The llama.* hyper-parameters llama.cpp's convert_hf_to_gguf.py writes for a Llama config.json, shared by
fetch_tokenizers.py (vocabulary-only GGUF) and make_bench_models.py (benchmark GGUFs)."""


def add_llama_hparams(w, cfg, file_type):
    """Adds block count, lengths, heads, rope and norm settings of `cfg` (a config.json dict) to GGUFWriter `w`."""
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_file_type(file_type)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_rope_dimension_count(cfg["hidden_size"] // cfg["num_attention_heads"])
