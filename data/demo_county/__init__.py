"""The demo county: 七都镇（演示） and three synthetic neighbour towns (build_demo_county.py)."""
