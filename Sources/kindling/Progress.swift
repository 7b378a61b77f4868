import Foundation

/// A one-line progress bar on standard error: percentage, loss, throughput and
/// time left. On a terminal it redraws in place; in a log it prints a few lines.
struct ProgressBar {
    let title: String
    let total: Int
    let start = Date()
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var lastQuarter = -1

    init(title: String, total: Int) {
        self.title = title
        self.total = total
    }

    /// Redraws after `done` of `total` batches, `samples` samples seen.
    mutating func update(done: Int, samples: Int, loss: Double) {
        let now = Date()
        let quarter = done * 4 / max(total, 1)
        if interactive {
            guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
        } else {
            guard quarter != lastQuarter && quarter < 4 else { return }
            lastQuarter = quarter
        }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let fraction = Double(done) / Double(max(total, 1))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rate = Double(samples) / max(elapsed, 1e-9)
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let line = String(format: "%@ [%@] %3d%%  loss %.4f  %6.0f samples/s  ETA %@",
                          title, bar, Int(fraction * 100), loss, rate, formatDuration(eta))
        FileHandle.standardError.write(Data(((interactive ? "\r" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    /// Wipes the bar from a terminal's line, so a line printed next starts clean.
    func clearLine() {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Ends the bar's line.
    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// `m:ss` for a number of seconds.
func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
}
