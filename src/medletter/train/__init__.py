"""QLoRA fine-tuning recipe: read it top to bottom.

    config (YAML) -> split records by patient -> tokenise (loss on the letter only)
    -> load base model (NF4 + double quantisation, or unquantised) -> LoRA on all linear layers
    -> HF Trainer (eval loss, checkpoints, resume, TensorBoard, metrics.jsonl, progress bar)
    -> runs/NAME/{config.yaml, adapter/, tokenizer/, checkpoints/, metrics.jsonl, data/, data_stats.json}
"""

from __future__ import annotations

from medletter.train.config import TrainConfig, load_config
from medletter.train.recipe import prepare_data, train

__all__ = ["TrainConfig", "load_config", "prepare_data", "train"]
