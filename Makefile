# One command to set up and run the main job, one to run the tests (see README.md).
SWIFT_RELEASE = swift build -c release
SEESAW = .build/release/seesaw

.PHONY: setup build demo test fuzz-smoke fuzz bench bench-models clean

setup:
	scripts/setup.sh

build: setup
	$(SWIFT_RELEASE)

# The main job: an OpenAI Batch API file (chat and completions lines) through the engine, results on stdout.
demo: build
	$(SEESAW) run-batch -i examples/batch.jsonl -o -

# Model tests need release builds: debug Swift runs numeric code 10-100x slower. The simulator's fidelity test
# times real runs, so it runs after the others, alone.
SWIFT_TEST = swift test -c release -Xswiftc -enable-testing
test: setup
	$(SWIFT_TEST) --skip SimulatorFidelityTests
	$(SWIFT_TEST) --skip-build --no-parallel --filter SimulatorFidelityTests

# libFuzzer runs of the readers of untrusted bytes (Fuzz/, scripts/fuzz.sh; build in .build-fuzz): 10 s per harness
# (about 1 min once built; the first build takes about 3 min), and the long run of a million inputs per harness.
fuzz-smoke:
	scripts/fuzz.sh 10s

fuzz:
	scripts/fuzz.sh 1000000

bench: build
	$(SEESAW) bench forward

# The benchmark models in .cache/bench-models (about 10 GB, about 40 minutes): not part of setup, test or CI.
bench-models: build
	SEESAW=$(SEESAW) scripts/setup-bench-models.sh

clean:
	rm -rf .build .build-fuzz
