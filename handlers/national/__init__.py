"""The national platform (全国建筑市场监管公共服务平台): an HTTP client and a simulator."""
