//! Advice on activation/initializer pairs the chapter warns against: SELU without LeCun
//! normal, the ReLU family with Glorot, a deep sigmoid/tanh stack with a plain normal
//! initialization.

use super::init::Initializer;
use super::layers::LayerKind;
use super::Sequential;
use crate::backend::ActKind;

impl Sequential {
    /// One warning per questionable pairing, naming the layer and the remedy.
    pub fn init_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut saturating_plain = 0;
        let layers = self.layers();
        for (i, l) in layers.iter().enumerate() {
            let LayerKind::Dense(d) = &l.kind else {
                continue;
            };
            let mut act = d.activation;
            let mut prelu = false;
            if act == ActKind::Linear {
                // The activation that follows (past any BatchNormalization).
                for next in &layers[i + 1..] {
                    match &next.kind {
                        LayerKind::BatchNormalization(_) => continue,
                        LayerKind::Prelu(_) => prelu = true,
                        k => act = k.ops().activation().unwrap_or(ActKind::Linear),
                    }
                    break;
                }
            }
            let init = d.kernel_initializer;
            let glorot = init == Initializer::GLOROT_UNIFORM || init == Initializer::GLOROT_NORMAL;
            let relu_family = prelu
                || matches!(
                    act,
                    ActKind::Relu
                        | ActKind::LeakyRelu { .. }
                        | ActKind::Rrelu { .. }
                        | ActKind::Elu { .. }
                );
            let act_name = if prelu { "prelu" } else { act.keras_name() };
            if act == ActKind::Selu && init != Initializer::LECUN_NORMAL {
                out.push(format!(
                    "warning: {}: selu is advised with lecun_normal initialization (self-normalization assumes it)",
                    l.name
                ));
            } else if relu_family && glorot {
                out.push(format!(
                    "warning: {}: {act_name} is advised with He initialization (he_normal or he_uniform); Glorot suits tanh, logistic and softmax",
                    l.name
                ));
            }
            if matches!(act, ActKind::Sigmoid | ActKind::Tanh)
                && matches!(init, Initializer::RandomNormal { .. })
            {
                saturating_plain += 1;
            }
        }
        if saturating_plain >= 3 {
            out.push(format!(
                "warning: {saturating_plain} sigmoid/tanh layers with a plain normal initialization: their gradients tend to vanish; Glorot (glorot_uniform or glorot_normal) is advised"
            ));
        }
        out
    }
}
