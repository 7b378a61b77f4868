// Rendering DOT text to SVG in-process, through the Graphviz C library (libgvc).
//
// Graphviz is a C library with a lot of global state, and four facts shape
// this file (DESIGN §6):
//
// 1. The call sequence is fixed: `agmemread` parses the text into a graph,
//    `gvLayout` places nodes and routes edges, `gvRenderData` writes the
//    picture into a buffer; then everything is freed in reverse order
//    (`gvFreeRenderData`, `gvFreeLayout`, `agclose`).
// 2. One `gvContext()` (the plugin registry) serves the whole process.
// 3. Errors are not return values but *messages*, handed to a callback set
//    with `agseterrf`; `agerrors()` tells the worst level seen since the last
//    `agreseterrors()`. Some mistakes (a bad HTML label) only surface during
//    layout, and layout still "succeeds" — so we check after every step.
// 4. The library is NOT thread-safe: concurrent renders crash. Every call
//    into Graphviz below happens while holding one process-wide lock.
// 5. The DOT scanner keeps its input buffer in a global: `agmemread` stops
//    after the first graph and the rest of the text would be read by the
//    *next* `agmemread`. We flush it before every parse.

import CGraphviz
import Foundation
import Synchronization

/// An error reported by Graphviz, in Graphviz's own words.
///
///     do { _ = try Graphviz.renderSVG(dot: "digraph { a -> }") }
///     catch let error as GraphvizError {
///         print(error.message)  // "Error: syntax error in line 1 near '}'"
///     }
public struct GraphvizError: Error, CustomStringConvertible, Sendable {
    /// The step of the pipeline that failed.
    public enum Stage: String, Sendable {
        /// Starting Graphviz (creating its context).
        case context
        /// Reading the DOT text (`agmemread`).
        case parse
        /// Placing nodes and edges (`gvLayout`).
        case layout
        /// Writing the picture (`gvRenderData`).
        case render
    }

    /// Where it failed.
    public let stage: Stage
    /// What Graphviz said (its error messages, joined), or a short explanation
    /// when Graphviz failed without saying anything.
    public let message: String

    /// "Graphviz failed to parse the DOT text: Error: syntax error in line 1 near '}'".
    public var description: String {
        let what: String
        switch stage {
        case .context: what = "start"
        case .parse: what = "parse the DOT text"
        case .layout: what = "lay out the graph"
        case .render: what = "render the graph"
        }
        return "Graphviz failed to \(what): \(message)"
    }
}

/// Renders DOT text with the Graphviz library linked into this process — no
/// `dot` executable needed.
///
/// All calls are serialized behind one lock, because Graphviz keeps global
/// state and crashes when used from two threads at once. It is therefore safe
/// to call from many tasks concurrently; the renders simply take turns.
///
///     let svg = try Graphviz.renderSVG(dot: "digraph G { a -> b }")
///     try svg.write(to: URL(fileURLWithPath: "ab.svg"))
public enum Graphviz {
    /// Lays out `dot` with the `dot` engine (layered drawing, the right
    /// choice for autograd graphs) and returns the SVG document as UTF-8 bytes.
    /// Only the first graph in the text is drawn.
    ///
    /// Throws a `GraphvizError` carrying Graphviz's message if the text is
    /// not valid DOT, if an HTML-like label is malformed, or if layout or
    /// rendering fails. Warnings (e.g. an unknown shape replaced by a box)
    /// do not throw.
    public static func renderSVG(dot: String) throws -> Data {
        try render(dot: dot, format: "svg", engine: "dot")
    }

    /// Lays out `dot` with `engine` (`"dot"`, `"neato"`, …, whichever layout
    /// plugins are installed) and renders it in `format` (`"svg"`, `"dot"`
    /// for the laid-out DOT with coordinates, `"plain"`, …).
    public static func render(dot: String, format: String, engine: String = "dot") throws -> Data {
        try session.withLock { context throws(GraphvizError) -> Data in
            let gvc = try openContext(&context)
            return try renderLocked(gvc: gvc, dot: dot, format: format, engine: engine)
        }
    }

    /// The Graphviz library version, e.g. `"2.42.2"`.
    public static var version: String {
        (try? session.withLock { context throws(GraphvizError) -> String in
            let gvc = try openContext(&context)
            return gvcVersion(gvc).map { String(cString: $0) } ?? "unknown"
        }) ?? "unavailable"
    }
}

// MARK: - The locked session

/// The one Graphviz context of the process, created on first use. The mutex
/// guards it *and* serializes every Graphviz call.
private let session = Mutex<OpaquePointer?>(nil)

/// Messages Graphviz reported during the current render. Written only by
/// `collectMessage`, which Graphviz calls only while `session` is locked.
nonisolated(unsafe) private var collectedMessages = ""

/// Graphviz's error callback: keep the text. Graphviz sends a message in
/// pieces ("Error", ": ", "syntax error in line 1 …\n"), so pieces are concatenated.
private let collectMessage: @convention(c) (UnsafeMutablePointer<CChar>?) -> Int32 = { text in
    if let text { collectedMessages += String(cString: text) }
    return 0
}

/// The context, creating it (and installing the error callback) the first time.
private func openContext(_ context: inout OpaquePointer?) throws(GraphvizError) -> OpaquePointer {
    if let context { return context }
    _ = agseterrf(collectMessage)
    collectedMessages = ""
    guard let created = gvContext() else {
        throw GraphvizError(stage: .context, message: messageOrDefault("gvContext() returned NULL"))
    }
    context = created
    return created
}

/// Collected messages, tidied, or `fallback` if Graphviz said nothing.
private func messageOrDefault(_ fallback: String) -> String {
    let text = collectedMessages
        .split(separator: "\n", omittingEmptySubsequences: true)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: "\n")
    return text.isEmpty ? fallback : text
}

/// Whether an error (not merely a warning) was reported since `agreseterrors()`.
private func errorReported() -> Bool {
    agerrors() >= Int32(AGERR.rawValue)
}

/// One render. The caller holds the lock.
private func renderLocked(gvc: OpaquePointer, dot: String, format: String, engine: String) throws(GraphvizError) -> Data {
    collectedMessages = ""
    agreseterrors()
    kindling_flush_dot_scanner()  // else text after an earlier graph would be read as this one

    guard let graph = agmemread(dot) else {
        throw GraphvizError(stage: .parse, message: messageOrDefault("no graph found in the DOT text"))
    }
    defer { agclose(graph) }
    if errorReported() {
        throw GraphvizError(stage: .parse, message: messageOrDefault("unknown parse error"))
    }

    guard gvLayout(gvc, graph, engine) == 0 else {
        throw GraphvizError(stage: .layout, message: messageOrDefault("gvLayout failed (engine \"\(engine)\")"))
    }
    defer { gvFreeLayout(gvc, graph) }
    if errorReported() {  // e.g. a malformed HTML-like label: reported, but layout "succeeds"
        throw GraphvizError(stage: .layout, message: messageOrDefault("unknown layout error"))
    }

    var buffer: UnsafeMutablePointer<CChar>? = nil
    var length: UInt32 = 0
    guard gvRenderData(gvc, graph, format, &buffer, &length) == 0, let buffer else {
        throw GraphvizError(stage: .render, message: messageOrDefault("gvRenderData failed (format \"\(format)\")"))
    }
    defer { gvFreeRenderData(buffer) }
    if errorReported() {
        throw GraphvizError(stage: .render, message: messageOrDefault("unknown render error"))
    }
    return Data(bytes: buffer, count: Int(length))
}
