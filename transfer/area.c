typedef int wsgate_placeholder_area;
