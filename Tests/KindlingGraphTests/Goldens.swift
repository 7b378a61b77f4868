// Golden DOT text for GraphTests. If a deliberate change to the drawing alters
// them, regenerate by printing `Graph(...).dot` for the fixtures in
// GraphFixtures.swift, and review the diff as you would a code change.

enum Goldens {
    /// micrograd's L = (a·b + c)·f after backward(): values as `label | data | grad`, ops as ovals.
    static let valueExpression = #"""
digraph "kindling" {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.35, nslimit=1, nslimit1=1, mclimit=0.1]
  node [shape=plain, fontname="Helvetica", fontsize=10]
  edge [color="#555555", arrowsize=0.7]
  // 7 values: 7 drawn, 0 elided
  n0 [id="n0", class="value output", tooltip="L: data -8.0000, grad 1.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="darkolivegreen1"><tr><td>L</td><td>data -8.0000</td><td>grad 1.0000</td></tr></table>>]
  n0_op [id="n0_op", class="op", shape=ellipse, style=filled, fillcolor="lightgray", tooltip="op *", label=<*>]
  n1 [id="n1", class="value", tooltip="d: data 4.0000, grad -2.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="white"><tr><td>d</td><td>data 4.0000</td><td>grad -2.0000</td></tr></table>>]
  n1_op [id="n1_op", class="op", shape=ellipse, style=filled, fillcolor="lightgray", tooltip="op +", label=<+>]
  n2 [id="n2", class="leaf", tooltip="f: data -2.0000, grad 4.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="lightblue"><tr><td>f</td><td>data -2.0000</td><td>grad 4.0000</td></tr></table>>]
  n3 [id="n3", class="value", tooltip="e: data -6.0000, grad -2.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="white"><tr><td>e</td><td>data -6.0000</td><td>grad -2.0000</td></tr></table>>]
  n3_op [id="n3_op", class="op", shape=ellipse, style=filled, fillcolor="lightgray", tooltip="op *", label=<*>]
  n4 [id="n4", class="leaf", tooltip="c: data 10.0000, grad -2.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="lightblue"><tr><td>c</td><td>data 10.0000</td><td>grad -2.0000</td></tr></table>>]
  n5 [id="n5", class="leaf", tooltip="a: data 2.0000, grad 6.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="lightblue"><tr><td>a</td><td>data 2.0000</td><td>grad 6.0000</td></tr></table>>]
  n6 [id="n6", class="leaf", tooltip="b: data -3.0000, grad -4.0000", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="lightblue"><tr><td>b</td><td>data -3.0000</td><td>grad -4.0000</td></tr></table>>]
  legend [id="legend", class="legend", shape=plain, style="", tooltip="what the colours mean", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="white"><tr><td colspan="2"><b>legend</b></td></tr><tr><td bgcolor="lightblue" width="14"></td><td align="left">leaf value</td></tr><tr><td bgcolor="lightgray" width="14"></td><td align="left">operation</td></tr><tr><td bgcolor="white" width="14"></td><td align="left">computed value</td></tr><tr><td bgcolor="darkolivegreen1" width="14"></td><td align="left">output</td></tr><tr><td bgcolor="#ff9999" width="14"></td><td align="left">holds NaN or Inf</td></tr></table>>]
  n1 -> n0_op
  n2 -> n0_op
  n0_op -> n0
  n3 -> n1_op
  n4 -> n1_op
  n1_op -> n1
  n5 -> n3_op
  n6 -> n3_op
  n3_op -> n3
}

"""#

    /// A 3 → 2 → 2 MLP's cross-entropy loss after backward(): parameters named, one cluster per module call.
    static let mlpLoss = #"""
digraph "kindling" {
  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.35, nslimit=1, nslimit1=1, mclimit=0.1]
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, color="#555555", margin="0.1,0.04"]
  edge [color="#555555", arrowsize=0.7]
  // 13 tensors, 13 nodes: 13 drawn, 0 elided
  n0 [id="n0", class="op output", fillcolor="darkolivegreen1", tooltip="op crossEntropy → []\nsaved tensors freed by backward()", label=<<b>crossEntropy</b><br/>[]<br/><i>output</i>>]
  n10 [id="n10", class="input", fillcolor="lightyellow", tooltip="input [2, 3]", label=<<b>input</b><br/>[2, 3]>]
  subgraph cluster_0 {
    graph [id="cluster_0", class="module", label=<<b>Sequential</b>>, tooltip="module call: Sequential", style="rounded,dashed", color="#888888", fontsize=10, labeljust=l]
    subgraph cluster_1 {
      graph [id="cluster_1", class="module", label=<<b>2 · Linear</b>>, tooltip="module call: Sequential › 2 · Linear", style="rounded,dashed", color="#888888", fontsize=10, labeljust=l]
      n1 [id="n1", class="op", fillcolor="lightgray", tooltip="op add → [2, 2]\nbroadcast [2, 2] · [2] → [2, 2]\ninside Sequential › 2 · Linear\nsaved tensors freed by backward()", label=<<b>add</b><br/>[2, 2]<br/><font point-size="9">broadcast [2, 2] · [2]</font>>]
      n2 [id="n2", class="op", fillcolor="lightgray", tooltip="op matmul → [2, 2]\ninside Sequential › 2 · Linear\nsaved tensors freed by backward()", label=<<b>matmul</b><br/>[2, 2]>]
      n3 [id="n3", class="parameter", fillcolor="lightblue", tooltip="parameter 2.bias [2]\ngrad ‖·‖₂ = 0.03955", label=<<b>2.bias</b><br/>[2]<br/>grad ‖·‖₂ = 0.03955>]
      n5 [id="n5", class="op", fillcolor="lightgray", tooltip="op transpose → [2, 2]\ninside Sequential › 2 · Linear\nsaved tensors freed by backward()", label=<<b>transpose</b><br/>[2, 2]>]
      n7 [id="n7", class="parameter", fillcolor="lightblue", tooltip="parameter 2.weight [2, 2]\ngrad ‖·‖₂ = 0.09159", label=<<b>2.weight</b><br/>[2, 2]<br/>grad ‖·‖₂ = 0.09159>]
    }
    subgraph cluster_2 {
      graph [id="cluster_2", class="module", label=<<b>1 · ReLU</b>>, tooltip="module call: Sequential › 1 · ReLU", style="rounded,dashed", color="#888888", fontsize=10, labeljust=l]
      n4 [id="n4", class="op", fillcolor="lightgray", tooltip="op relu → [2, 2]\ninside Sequential › 1 · ReLU\nsaved tensors freed by backward()", label=<<b>relu</b><br/>[2, 2]>]
    }
    subgraph cluster_3 {
      graph [id="cluster_3", class="module", label=<<b>0 · Linear</b>>, tooltip="module call: Sequential › 0 · Linear", style="rounded,dashed", color="#888888", fontsize=10, labeljust=l]
      n6 [id="n6", class="op", fillcolor="lightgray", tooltip="op add → [2, 2]\nbroadcast [2, 2] · [2] → [2, 2]\ninside Sequential › 0 · Linear\nsaved tensors freed by backward()", label=<<b>add</b><br/>[2, 2]<br/><font point-size="9">broadcast [2, 2] · [2]</font>>]
      n8 [id="n8", class="op", fillcolor="lightgray", tooltip="op matmul → [2, 2]\ninside Sequential › 0 · Linear\nsaved tensors freed by backward()", label=<<b>matmul</b><br/>[2, 2]>]
      n9 [id="n9", class="parameter", fillcolor="lightblue", tooltip="parameter 0.bias [2]\ngrad ‖·‖₂ = 0.005594", label=<<b>0.bias</b><br/>[2]<br/>grad ‖·‖₂ = 0.005594>]
      n11 [id="n11", class="op", fillcolor="lightgray", tooltip="op transpose → [3, 2]\ninside Sequential › 0 · Linear\nsaved tensors freed by backward()", label=<<b>transpose</b><br/>[3, 2]>]
      n12 [id="n12", class="parameter", fillcolor="lightblue", tooltip="parameter 0.weight [2, 3]\ngrad ‖·‖₂ = 0.1456", label=<<b>0.weight</b><br/>[2, 3]<br/>grad ‖·‖₂ = 0.1456>]
    }
  }
  legend [id="legend", class="legend", shape=plain, style="", tooltip="what the colours mean", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="white"><tr><td colspan="2"><b>legend</b></td></tr><tr><td bgcolor="lightyellow" width="14"></td><td align="left">input (data, constant)</td></tr><tr><td bgcolor="lightblue" width="14"></td><td align="left">parameter</td></tr><tr><td bgcolor="lightgray" width="14"></td><td align="left">operation</td></tr><tr><td bgcolor="darkolivegreen1" width="14"></td><td align="left">output</td></tr><tr><td bgcolor="#ff9999" width="14"></td><td align="left">holds NaN or Inf</td></tr></table>>]
  n1 -> n0
  n2 -> n1
  n3 -> n1
  n4 -> n2
  n5 -> n2
  n6 -> n4
  n7 -> n5
  n8 -> n6
  n9 -> n6
  n10 -> n8
  n11 -> n8
  n12 -> n11
}

"""#

    /// ([3, 1] + [4]).sum() after backward(): the add says it broadcast.
    static let broadcast = #"""
digraph "kindling" {
  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.35, nslimit=1, nslimit1=1, mclimit=0.1]
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, color="#555555", margin="0.1,0.04"]
  edge [color="#555555", arrowsize=0.7]
  // 4 tensors, 4 nodes: 4 drawn, 0 elided
  n0 [id="n0", class="op output", fillcolor="darkolivegreen1", tooltip="op sum → []\nsaved tensors freed by backward()", label=<<b>sum</b><br/>[]<br/><i>output</i>>]
  n1 [id="n1", class="op", fillcolor="lightgray", tooltip="op add → [3, 4]\nbroadcast [3, 1] · [4] → [3, 4]\nsaved tensors freed by backward()", label=<<b>add</b><br/>[3, 4]<br/><font point-size="9">broadcast [3, 1] · [4]</font>>]
  n2 [id="n2", class="input", fillcolor="lightblue", tooltip="input [3, 1], requires grad\ngrad ‖·‖₂ = 6.928", label=<<b>input</b><br/>[3, 1]<br/><i>requires grad</i><br/>grad ‖·‖₂ = 6.928>]
  n3 [id="n3", class="input", fillcolor="lightblue", tooltip="input [4], requires grad\ngrad ‖·‖₂ = 6", label=<<b>input</b><br/>[4]<br/><i>requires grad</i><br/>grad ‖·‖₂ = 6>]
  legend [id="legend", class="legend", shape=plain, style="", tooltip="what the colours mean", label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="white"><tr><td colspan="2"><b>legend</b></td></tr><tr><td bgcolor="lightyellow" width="14"></td><td align="left">input (data, constant)</td></tr><tr><td bgcolor="lightblue" width="14"></td><td align="left">leaf that requires grad</td></tr><tr><td bgcolor="lightgray" width="14"></td><td align="left">operation</td></tr><tr><td bgcolor="darkolivegreen1" width="14"></td><td align="left">output</td></tr><tr><td bgcolor="#ff9999" width="14"></td><td align="left">holds NaN or Inf</td></tr></table>>]
  n1 -> n0
  n2 -> n1
  n3 -> n1
}

"""#
}
