"""A complete environment for `environment_command` (see docs/agents.md): the model guesses a row's number with
the tool `guess`, which answers "higher", "lower" or "correct" (and ends the episode); the reward is 1 for an episode
that found the number, minus 0.1 per extra guess. Standard library only.

    environment_command: python3 examples/agents/guess_environment.py
"""
import json
import sys

TOOLS = [{
    "type": "function",
    "function": {
        "name": "guess",
        "description": "Guess the secret number; answers higher, lower or correct.",
        "parameters": {"type": "object", "properties": {"number": {"type": "integer", "description": "The guess."}},
                       "required": ["number"]},
    },
}]

episodes = {}  # rollout id -> {"secret": int, "guesses": int, "found": bool}


def handle(request):
    rollout = request.get("rollout")
    kind = request["type"]
    if kind == "reset":
        episodes[rollout] = {"secret": int(request["row"]["secret"]), "guesses": 0, "found": False}
        return {"rollout": rollout, "text": " Find it with the guess tool.", "tools": TOOLS}
    if kind == "call":
        episode = episodes[rollout]
        number = request["arguments"].get("number") if isinstance(request["arguments"], dict) else None
        if request["name"] != "guess" or not isinstance(number, int):
            return {"rollout": rollout, "error": "call guess with an integer: {\"number\": 7}"}
        episode["guesses"] += 1
        if number == episode["secret"]:
            episode["found"] = True
            return {"rollout": rollout, "result": "correct", "done": True}
        return {"rollout": rollout, "result": "higher" if number < episode["secret"] else "lower"}
    if kind == "reward":
        episode = episodes.pop(rollout)
        reward = max(0.0, 1.0 - 0.1 * (episode["guesses"] - 1)) if episode["found"] else 0.0
        return {"rollout": rollout, "reward": reward}
    return {"rollout": rollout, "error": f"unknown request type {kind!r}"}


for line in sys.stdin:
    print(json.dumps(handle(json.loads(line))), flush=True)
