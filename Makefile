# Thin wrapper around dev.py, which works the same on Linux, macOS and Windows.
PYTHON ?= python3

.PHONY: setup demo demo-small test unit integration e2e lint build clean benchmarks benchmarks-report

setup:        ## create .venv with the pinned tools and the shared package
	$(PYTHON) dev.py setup
demo:         ## the main job: sample data through every function, report in local-run/
	$(PYTHON) dev.py demo
demo-small:   ## the same on a small sample (seconds)
	$(PYTHON) dev.py demo --small
test:         ## lint + unit + integration + e2e (what CI runs)
	$(PYTHON) dev.py test
unit integration e2e lint:
	$(PYTHON) dev.py test --tier $@
benchmarks:   ## re-run every benchmark (hours on 2 cores), then regenerate docs/BENCHMARKS.md
	$(PYTHON) dev.py bench
benchmarks-report: ## regenerate docs/BENCHMARKS.md from docs/benchmarks/*.json only (seconds)
	$(PYTHON) dev.py bench --compose-only
build:        ## sam build of every image (needs Docker, or tools/container-runtime/setup.sh)
	.venv/bin/sam build --template template.yaml
clean:
	rm -rf .aws-sam local-run .pytest_cache .ruff_cache
