# The two commands: `make run` (install what is missing, run the main job on the
# embedded default) and `make test` (install what is missing, run the tests).
PY := .venv/bin/python
MAIN_JOB ?= jobs/nightly.py
MAIN_CONF ?= conf/flights.yaml
PYTEST_ARGS ?= -q

.PHONY: setup run test prepare bench-throughput bench-stragglers bench-headline bench-scale clean

setup:
	@bash scripts/setup.sh

run: setup
	./spark-submit.sh $(MAIN_JOB) --conf $(MAIN_CONF) $(ARGS)

prepare: setup
	./spark-submit.sh jobs/prepare_features.py --conf $(MAIN_CONF) $(ARGS)

test: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)

bench-throughput: setup
	$(PY) benchmarks/train_throughput.py $(ARGS)

bench-stragglers: setup
	$(PY) benchmarks/stragglers.py

# AdaNet vs the baselines on flights, adult, bio and gss_abortion, 3 seeds (about 2 hours on
# 2 cores); ARGS=--quick for a check under 15 minutes, ARGS="--datasets bio,adult" for a part.
bench-headline: setup
	$(PY) benchmarks/headline.py $(ARGS)

# Streamed training data at 2M and 20M synthetic rows (about an hour on 2 cores); check it
# end to end first with ARGS="--rows-small 200000 --rows-large 2000000 --no-docs".
bench-scale: setup
	$(PY) benchmarks/scale.py $(ARGS)

clean:
	rm -rf warehouse build .pytest_cache
