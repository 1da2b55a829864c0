"""The training step under a real tf.distribute strategy: two replicas on two logical CPU devices."""

import subprocess
import sys

from conftest import ROOT, make_labelled_set

SCRIPT = r'''
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from data_utils import PipelineConfig, read_image_csv, train_dataset
from resnet_tf import ResNet
from training.config import TrainConfig
from training.step import make_optimizer, make_train_step

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
table = read_image_csv(sys.argv[1])
cfg = TrainConfig(arch="resnet18", width=4, batch_size=12, lr=3e-3, lr_schedule="constant", augment=False)
with strategy.scope():
    model = ResNet(18, table.mapping.num_classes, width=4)
    optimizer = make_optimizer(cfg, 100)
    optimizer.build(model.trainable_variables)
step = make_train_step(model, optimizer, cfg, np.ones(table.mapping.num_classes, np.float32), strategy)
pcfg = PipelineConfig(32, cfg.batch_size // strategy.num_replicas_in_sync, augment=False)
dataset = strategy.distribute_datasets_from_function(
    lambda ctx: train_dataset(table, pcfg, 0, ctx.num_input_pipelines, ctx.input_pipeline_id))
losses, counts = [], []
for batch, _ in zip(dataset, range(12)):
    loss, correct, counted, finite = step(batch)
    assert bool(finite)
    losses.append(float(loss)); counts.append(float(counted))
replicas = [v.numpy() for v in strategy.experimental_local_results(model.stem.conv.w)]
print("replicas", strategy.num_replicas_in_sync, "same", all(np.array_equal(replicas[0], r) for r in replicas))
print("counted", set(counts), "first", np.mean(losses[:3]), "last", np.mean(losses[-3:]))
'''


def test_mirrored_strategy_trains_in_sync(tmp_path):
    csv_path = make_labelled_set(str(tmp_path), num_classes=3, per_class=8, size=32)
    out = subprocess.run([sys.executable, "-c", "import sys\n" + SCRIPT, csv_path],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert lines["replicas"] == "2 same True"  # both replicas hold identical weights after every update
    counted, rest = lines["counted"].split(" first ")
    assert counted == "{12.0}"  # the global batch, summed over both replicas
    first, last = (float(v) for v in rest.split(" last "))
    assert last < 0.8 * first
