"""Where candidates train: the executors that implement ``adanet.protocol.Executor``.

``local`` (this process), ``spark`` (one Spark job per candidate) and
``horovod`` (a pool of Horovod-on-Spark workers) share one driver loop
(:mod:`.driver`), one tracker of retries and stragglers (:mod:`.tracker`,
:mod:`.stragglers`), one worker-side attempt (:mod:`.attempt`, :mod:`.faults`)
and one split cache (:mod:`.split_cache`); :mod:`.factory` picks one from the config.
"""
