// The checks' own tests live with the library's tests of the grader machinery
// (Tests/KindlingTests would not see this target), so here only a smoke test
// that the hints fire as documented, run as part of the hidden-test target on the reference.
import Kindling
import Testing

@Suite struct TeachingChecksSelfTest {
    @Test func hintsRecogniseTheirMistakes() {
        let e: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(MistakeHint.doubled.matches(e.map { $0 * 2 }, [2, 3], e, [2, 3]))
        #expect(!MistakeHint.doubled.matches(e, [2, 3], e, [2, 3]))
        #expect(MistakeHint.negated.matches(e.map { -$0 }, [2, 3], e, [2, 3]))
        #expect(MistakeHint.zero.matches([0, 0, 0, 0, 0, 0], [2, 3], e, [2, 3]))
        #expect(MistakeHint.unbroadcast.matches([Float](repeating: 1, count: 12), [4, 3], [4, 4, 4], [3]))
        #expect(MistakeHint.transposed.matches([1, 4, 2, 5, 3, 6], [3, 2], e, [2, 3]))
        #expect(!MistakeHint.transposed.matches(e, [2, 3], e, [2, 3]))
        #expect(rowMajorIndex(5, shape: [2, 3]) == [1, 2])
    }
}
