"""Tests of --profile-steps: a profiler trace of exactly the steps asked for."""


def test_the_profiled_steps_leave_a_trace_for_the_profile_tab(trained_run):
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    traces = list((trained_run / "train" / "plugins" / "profile").glob("*/*.xplane.pb"))
    assert len(traces) == 1  # where TensorBoard's Profile tab looks for the run "train"
    space = xplane_pb2.XSpace.FromString(traces[0].read_bytes())
    steps = []
    for plane in space.planes:
        stat_names = {k: v.name for k, v in plane.stat_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                if plane.event_metadata[event.metadata_id].name == "train":
                    steps += [s.int64_value for s in event.stats if stat_names[s.metadata_id] == "step_num"]
    assert steps == [3, 4]
    assert "profiled steps 3-4 into" in (trained_run / "train.log").read_text()
