"""Dump the field names and declared defaults of TRL's configs to a JSON fixture.

Fledge's config tests read the fixture to check that every field TRL accepts is known to
Fledge (supported, not applicable, or retired) and that the `defaults: trl` preset matches
TRL's current defaults.

TRL removed `PPOConfig` after 1.12.0 (it lived in `trl/experimental/ppo/`); when the installed
TRL has none, pass the `ppo_config.py` of the last release that had it:

    /tmp/venv/bin/pip install trl
    /tmp/venv/bin/pip download trl==1.12.0 --no-deps -d /tmp/trl112
    unzip -o /tmp/trl112/trl-1.12.0-*.whl 'trl/experimental/ppo/ppo_config.py' -d /tmp/trl112
    /tmp/venv/bin/python Scripts/reference/dump_trl_config_fields.py \
        --ppo-config /tmp/trl112/trl/experimental/ppo/ppo_config.py
"""

import argparse
import dataclasses
import enum
import importlib.util
import json
import pathlib

import transformers
import trl
from trl import DPOConfig, GRPOConfig, ModelConfig, RewardConfig, RLOOConfig, ScriptArguments, SFTConfig

parser = argparse.ArgumentParser()
parser.add_argument("--ppo-config", help="ppo_config.py of an older TRL, when the installed one has no PPOConfig")
args = parser.parse_args()

if args.ppo_config:
    # The file imports `...trainer.base_config`, which resolves against the installed TRL.
    spec = importlib.util.spec_from_file_location("trl.experimental.ppo.ppo_config", args.ppo_config)
    ppo_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ppo_module)
    PPOConfig = ppo_module.PPOConfig
    ppo_source = pathlib.Path(args.ppo_config).name + " given on the command line"
else:
    from trl.experimental.ppo import PPOConfig

    ppo_source = "installed TRL"

try:
    from trl import DatasetMixtureConfig
except ImportError:
    DatasetMixtureConfig = None


def plain(value):
    """A JSON-friendly form of a dataclass default."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def defaults(cls):
    out = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = plain(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = plain(f.default_factory())
        else:
            out[f.name] = None
    return out


script_classes = [ModelConfig, ScriptArguments] + ([DatasetMixtureConfig] if DatasetMixtureConfig else [])
fixture = {
    "trl_version": trl.__version__,
    "transformers_version": transformers.__version__,
    "ppo_source": ppo_source,
    "trainers": {
        "grpo": defaults(GRPOConfig),
        "dpo": defaults(DPOConfig),
        "ppo": defaults(PPOConfig),
        "sft": defaults(SFTConfig),
        "rloo": defaults(RLOOConfig),
        "reward": defaults(RewardConfig),
    },
    "script": {cls.__name__: defaults(cls) for cls in script_classes},
}

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/FledgeRLTests/Fixtures/trl_config_fields.json"
out.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
print(f"wrote {out} (TRL {trl.__version__}, transformers {transformers.__version__})")
