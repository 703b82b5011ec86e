# Swapline — the two commands a fresh Debian 12 machine needs:
#   make demo   set up (apt, ONNX Runtime, offline models, samples), build, swap grace_hopper into astronaut
#   make test   set up (plus test tooling), build, run the test suite
SWIFT ?= swift
CONFIG ?= release
BIN = .build/$(CONFIG)/swapline
# One optimised build serves the demo and the tests: -enable-testing keeps @testable imports
# working in release, so `make test` after `make demo` (or the reverse) rebuilds nothing.
BUILD_FLAGS = -c $(CONFIG) -Xswiftc -enable-testing
OUT ?= out

.PHONY: setup setup-dev build build-debug demo test bench check-ort clean

setup:
	scripts/setup.sh all

setup-dev: setup
	scripts/setup.sh dev

build: setup
	$(SWIFT) build $(BUILD_FLAGS) --product swapline

demo: build
	@mkdir -p $(OUT)
	$(BIN) doctor || true
	$(BIN) swap -s samples/grace_hopper.jpg -t samples/astronaut.png -o $(OUT)/astronaut_with_grace_hopper.png --profile
	$(BIN) detect samples/astronaut.png --landmarks-68 --output $(OUT)/astronaut_faces.png > $(OUT)/astronaut_faces.txt
	$(BIN) detect samples/solvay_conference_1927.jpg --output $(OUT)/solvay_faces.jpg > $(OUT)/solvay_faces.txt
	@head -1 $(OUT)/solvay_faces.txt
	@echo "annotated images written to $(OUT)/"
	@# A 4 s 720p clip made from the samples (the astronaut drifting across a grey frame, a tone), swapped as a video job.
	ffmpeg -v error -y -f lavfi -i color=c=0x404040:s=1280x720:r=25:d=4 -loop 1 -i samples/astronaut.png \
	  -f lavfi -i sine=frequency=330:duration=4 -filter_complex \
	  "[1]scale=540:540[f];[0][f]overlay=x='160+60*t':y='72+36*sin(t)':shortest=1,format=yuv420p[v]" \
	  -map "[v]" -map 2:a -t 4 -c:v libx264 -preset veryfast -c:a aac $(OUT)/demo_clip.mp4
	$(BIN) swap -s samples/grace_hopper.jpg -t $(OUT)/demo_clip.mp4 -o $(OUT)/demo_clip_swapped.mp4 --restart

# The tests run optimised, and the end-to-end ones run the swapline built with them (SWAPLINE_BIN):
# a debug swapline spends ~14 s loading the dlib model alone, and one build is faster than two.
# Then the HTTP API's tests (a real `swapline serve` on loopback, a real HTTP client, schemathesis)
# and the web page's (a real headless Chromium driving that server; screenshots in out/ui-screenshots/).
test: setup-dev
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	SWAPLINE_BIN=$(CURDIR)/$(BIN) $(SWIFT) test $(BUILD_FLAGS) --skip-build
	SWAPLINE_BIN=$(CURDIR)/$(BIN) .venv/bin/python -m pytest tests/api tests/ui tests/facefusion tests/client tests/deploy -q -p no:cacheprovider

bench: build
	$(BIN) benchmark detect samples/solvay_conference_1927.jpg --iterations 30
	$(BIN) benchmark video

# Checks our OrtApi slot table against an upstream onnxruntime_c_api.h you have locally.
check-ort:
	python3 scripts/check_ort_slots.py $(ORT_HEADER) Sources/COnnxRuntime/include/swapline_ort.h

clean:
	rm -rf .build $(OUT)
