# The two commands: `make run` (install what is missing, run the main job on the
# embedded default) and `make test` (install what is missing, run the tests).
PY := .venv/bin/python
MAIN_JOB ?= jobs/nightly.py
MAIN_CONF ?= conf/flights.yaml
PYTEST_ARGS ?= -q

.PHONY: setup run test prepare bench-throughput bench-stragglers bench-headline clean

setup:
	@bash scripts/setup.sh

run: setup
	./spark-submit.sh $(MAIN_JOB) --conf $(MAIN_CONF) $(ARGS)

prepare: setup
	./spark-submit.sh jobs/prepare_features.py --conf $(MAIN_CONF) $(ARGS)

test: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)

bench-throughput: setup
	$(PY) benchmarks/train_throughput.py

bench-stragglers: setup
	$(PY) benchmarks/stragglers.py

bench-headline: setup
	$(PY) benchmarks/headline.py $(ARGS)

clean:
	rm -rf warehouse build .pytest_cache
