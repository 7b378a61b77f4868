// A place to try things. Paste a lesson's example below and run it:
//
//     swift run scratch                                 (in your course repository)
//     KINDLING_WORKSPACE=exercises swift run scratch    (in the Kindling repository,
//                                                        on the exercises workspace)
//
// It runs on the library of the workspace: your own code, once you have
// written it. An example that calls an exercise you have not done yet stops
// with that exercise's "not done yet" message.
import Foundation
import Kindling

print("Paste a lesson's example into Sources/scratch/main.swift, then run `swift run scratch` again.")
