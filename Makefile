# One command to set up and run the main job, one to run the tests (see README.md).
SWIFT_RELEASE = swift build -c release
SEESAW = .build/release/seesaw
# "The capital of France is" as SmolLM2 token ids (Tests/Fixtures/smollm2-greedy.json); text prompts come with the tokenizer.
DEMO_PROMPT = 504,3575,282,4649,314

.PHONY: setup build demo test bench clean

setup:
	scripts/setup.sh

build: setup
	$(SWIFT_RELEASE)

demo: build
	$(SEESAW) generate --prompt-ids $(DEMO_PROMPT) --max-tokens 32 --json

# Model tests need release builds: debug Swift runs numeric code 10-100x slower.
test: setup
	swift test -c release -Xswiftc -enable-testing

bench: build
	$(SEESAW) bench forward

clean:
	rm -rf .build
