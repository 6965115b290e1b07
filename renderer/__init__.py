"""The minimal reference renderer: typed cluster config, descriptors, plan and atomic render."""
