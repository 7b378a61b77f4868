// A place to try things. Paste a lesson's example below, in place of the
// `print` line, and run it:
//
//     swift run scratch
//
// It runs on your library, Exercises/Kindling: your own code, once you have
// written it. An example that calls an exercise you have not done yet stops
// with that exercise's "not done yet" message.
import Foundation
import Kindling

print("Paste a lesson's example into Sources/scratch/main.swift, then run `swift run scratch` again.")
