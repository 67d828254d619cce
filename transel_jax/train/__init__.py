"""Data-parallel training of segmenters: SPMD step, loss, schedules, checkpoints, mIoU evaluation.

Building blocks (import from their modules):
  step.make_train_step      shard_map step over the "data" mesh, synchronized BN, donated state
  losses.pixel_cross_entropy  void-ignoring pixel cross-entropy, optional class weights
  schedules.make_schedule   "step" (x0.1 at 2/3), "poly" (p = 0.9), "constant"; optional warmup
  optim.make_optimizer      SGD momentum 0.9 + weight decay on kernels, optional frozen backbone
  checkpoint.Checkpointer   orbax checkpoints with metadata and per-array sha256; skips unreadable or
                            changed steps with a warning; never writes a NaN/inf state
  validate.check_hparams    hyper-parameters, checkpoint options and whole train configs checked up front
  evaluate.evaluate         mIoU / per-class IoU from a psummed confusion matrix
  trainer.train             the loop with exact resume, metrics.jsonl and a tqdm progress bar; stops at
                            the first non-finite loss or gradient norm (loop.NonFiniteLossError)
  run.run                   config-driven run (what `transel train` calls)
  init.init_model           model init compiled once per architecture (backbone) and class count (head)
  progress.progress         inner progress bars: cleared when done, quiet in log files
  phases.totals             wall time per phase (init, compile, steps, checkpoint, ...): overhead profiling
"""
