"""Where transformers' sequence classifiers read their score when a sequence ends in padding.

    python3 Scripts/reference/make_classifier_padding_fixtures.py [MODELS_DIR]

For the committed classifier fixtures under MODELS_DIR (default Tests/FledgeLMTests/Fixtures/models:
`qwen2_classifier`, two labels, and `llama_reward`, one label; both have `pad_token_id` 0 and EOS 2),
writes `<name>/padding.json`: token sequences that end in one or more pad tokens that are not EOS, hold a
pad token in the middle, end in EOS, or are all padding, and the logits transformers'
`…ForSequenceClassification` gives for each, run alone with every token attended (it pools at the
rightmost token whose id is not `pad_token_id`, position 0 when there is none) and as one right-padded
batch with an attention mask (`batch_scores`, as TRL's trainers pad).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForSequenceClassification

PAD, EOS = 0, 2
SEQUENCES = [
    [38, 15, 153, 4, 92, PAD, PAD],
    [97, 12, 73, PAD],
    [47, PAD, 79, 79, 73, PAD, PAD, PAD],
    [5, 9, 33, EOS],
    [61, 70, 8, 120, 14, 101],
    [PAD, PAD, PAD],
]


def main():
    models_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/models"
    for name in ["qwen2_classifier", "llama_reward"]:
        path = os.path.join(models_dir, name)
        model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32).eval()
        assert model.config.pad_token_id == PAD and model.config.eos_token_id == EOS
        width = max(len(s) for s in SEQUENCES)
        ids = torch.tensor([s + [PAD] * (width - len(s)) for s in SEQUENCES])
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in SEQUENCES])
        with torch.no_grad():
            alone = [model(torch.tensor([s])).logits[0].tolist() for s in SEQUENCES]
            batch = model(input_ids=ids, attention_mask=mask).logits.tolist()
        with open(os.path.join(path, "padding.json"), "w") as f:
            json.dump({"pad_token_id": PAD, "eos_token_id": EOS, "sequences": SEQUENCES, "scores": alone,
                       "batch_scores": batch}, f)


if __name__ == "__main__":
    main()
