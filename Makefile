# One command to set up and run the main job, one to run the tests (see README.md).
SWIFT_RELEASE = swift build -c release
SEESAW = .build/release/seesaw

.PHONY: setup build demo test bench clean

setup:
	scripts/setup.sh

build: setup
	$(SWIFT_RELEASE)

demo: build
	$(SEESAW) generate --chat --prompt "What is the capital of France?" --prompt "Write a haiku about the sea."

# Model tests need release builds: debug Swift runs numeric code 10-100x slower.
test: setup
	swift test -c release -Xswiftc -enable-testing

bench: build
	$(SEESAW) bench forward

clean:
	rm -rf .build
