import Testing
import Kindling

/// Lesson 1 — scalar autograd. Run with `swift test --filter Lesson01`.
@Suite("Lesson01", .serialized) struct Lesson01 {
    @Suite("1.1 multiplication") struct Exercise_1_1 {
        @Test func productAndLocalDerivatives() {
            let a = Value(2), b = Value(-3)
            let c = a * b
            #expect(c.data == -6)
            #expect(c.localGrads == [-3, 2], "∂(a·b)/∂a is b and ∂(a·b)/∂b is a")
        }
    }
}
