"""`winnow train METHOD ... --launcher accelerate`: the same job in several processes under
`accelerate launch`, with an accelerate config written for the strategy (or the user's own).

The launching process checks everything that needs no compute (the launcher options in
arguments.py, what the machine can run in checks.py, the job and the run name), writes the
config (accelerate_config.py) and runs `accelerate launch --config_file CFG -m winnow train
METHOD ...` with the same options less the launcher ones (relaunch.py). The launched ranks train
as under any launcher (see ranks.py); WINNOW_LAUNCH tells them which config they run under, and
rank 0 copies it into the run folder as accelerate.yaml and records it in run.json (handoff.py).
"""
