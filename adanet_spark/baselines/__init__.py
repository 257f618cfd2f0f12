"""Baselines AdaNet is compared with, on the same feature table, splits and test rows.

* ``logistic_regression``: Spark ML on one-hot categoricals, L2 strength chosen on
  valid (:mod:`.logistic_regression`);
* ``manual_nn``, ``grid_search_nn``, ``random_search_nn``: feed-forward nets trained by
  AdaNet's own trainer through the same executors (:mod:`.nets`), over one declared
  search space (:mod:`.search_space`, ``baselines.search_space`` / ``baselines.grid``);
* ``tpe_search_nn``: Optuna's TPE over the same space, trainer, executor and budget (:mod:`.tpe`);
* ``xgboost``: ``xgboost.spark`` on the Spark executors, native categoricals (:mod:`.xgboost_spark`);
* every model selects on train/valid only, then scores test once (:mod:`.selection`);
  :func:`.runner.run_baselines` runs ``baselines.models`` and writes ``auc_reports``.
"""
