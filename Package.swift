// swift-tools-version:6.0
//
// Kindling — an educational deep-learning framework in Swift.
//
// One manifest serves two worlds. The `Kindling` library is built from
// `Sources/Kindling` (the reference) unless `KINDLING_WORKSPACE=exercises`
// is set, in which case it is built from `Exercises/Kindling`, the learner's
// copy. Everything built on top of it — the CLI, the tests — then runs on the
// learner's own code.
import Foundation
import PackageDescription

let workspace = ProcessInfo.processInfo.environment["KINDLING_WORKSPACE"] ?? "reference"
let kindlingPath: String
switch workspace {
case "exercises": kindlingPath = "Exercises/Kindling"
case "reference", "": kindlingPath = "Sources/Kindling"
default: kindlingPath = workspace  // any folder holding a Kindling source tree
}

let package = Package(
    name: "Kindling",
    products: [
        .library(name: "Kindling", targets: ["Kindling"]),
        .library(name: "KindlingGraph", targets: ["KindlingGraph"]),
        .executable(name: "kindling", targets: ["kindling"]),
        .executable(name: "grader", targets: ["grader"]),
        .executable(name: "scratch", targets: ["scratch"]),
        .executable(name: "kindling-sandbox", targets: ["kindling-sandbox"]),
        .executable(name: "course", targets: ["course"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CGraphviz",
            path: "Sources/CGraphviz",
            pkgConfig: "libgvc",
            providers: [.apt(["libgraphviz-dev"])]
        ),
        .target(
            name: "Kindling",
            dependencies: ["CBLAS", "CZlib"],
            path: kindlingPath
        ),
        .target(
            name: "KindlingGraph",
            dependencies: ["Kindling", "CGraphviz"],
            path: "Sources/KindlingGraph"
        ),
        .executableTarget(
            name: "kindling",
            dependencies: [
                "Kindling",
                "KindlingGraph",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/kindling"
        ),
        // A main.swift to paste lesson examples into: `swift run scratch`.
        .executableTarget(
            name: "scratch",
            dependencies: ["Kindling"],
            path: "Sources/scratch"
        ),
        .target(
            name: "CSandbox",
            path: "Sources/CSandbox"
        ),
        // The small C program that starts each sandboxed test (limits, user,
        // namespaces), so that the grader itself never forks.
        .executableTarget(
            name: "kindling-sandbox",
            path: "Sources/kindling-sandbox"
        ),
        .target(
            name: "GraderKit",
            dependencies: ["CSandbox"],
            path: "Sources/GraderKit"
        ),
        .executableTarget(
            name: "grader",
            dependencies: [
                "GraderKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/grader"
        ),
        // The learner's companion: `swift run course` (next exercise, watch, hints, progress).
        .executableTarget(
            name: "course",
            dependencies: [
                "GraderKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/course"
        ),
        .testTarget(
            name: "KindlingTests",
            // GraderKit: the lessons' code blocks, read as `grader sync` reads them.
            dependencies: ["Kindling", "GraderKit"],
            path: "Tests/KindlingTests",
            resources: [.copy("Data")]
        ),
        .testTarget(
            name: "LessonTests",
            dependencies: ["Kindling"],
            path: "Tests/LessonTests"
        ),
        .testTarget(
            name: "HiddenTests",
            dependencies: ["Kindling"],
            path: "Tests/HiddenTests",
            exclude: ["points.json", "Points"]
        ),
        .testTarget(
            name: "GraderKitTests",
            dependencies: ["GraderKit", "CBLAS"],
            path: "Tests/GraderKitTests"
        ),
        .testTarget(
            name: "KindlingGraphTests",
            dependencies: ["KindlingGraph", "Kindling"],
            path: "Tests/KindlingGraphTests"
        ),
    ]
)
