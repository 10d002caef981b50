#!/usr/bin/env bash
# Regenerate the Space's example clips: espeak-ng speech, resampled by sox to 16 kHz mono 16-bit WAV
# (-R: repeatable dither, so the files come out byte-identical on the same espeak-ng and sox versions).
set -euo pipefail
cd "$(dirname "$0")"
speak() {  # speak <file> <voice> <words per minute> <pitch> <text>
  espeak-ng -v "$2" -s "$3" -p "$4" -w "$1.22k.wav" "$5"
  sox -R "$1.22k.wav" -r 16000 -c 1 -b 16 "$1"
  rm "$1.22k.wav"
}
speak turn_on_the_radio.wav en-us+m3 160 50 "Turn on the radio now."
speak set_an_alarm.wav en-gb-x-rp+f2 155 60 "Set an alarm for seven am tomorrow."
speak weather_in_berlin.wav en-gb-scotland+m1 165 45 "What is the weather like in Berlin?"
