"""Plausible procedures of a provincial Department of Science and Technology, by field and unit.

Each entry: (field key, unit code, name, time limit, limit unit, fee text or "", online level, postal).
Limit units: "working_days", "calendar_days", "working_hours". Online levels: "full", "partial", "none".
"""

from __future__ import annotations

FIELDS: dict[str, tuple[str, str]] = {
    "KHCN": ("G15-KH01", "Hoạt động khoa học và công nghệ"),
    "SHTT": ("G15-KH02", "Sở hữu trí tuệ"),
    "TDC": ("G15-KH03", "Tiêu chuẩn đo lường chất lượng"),
    "VTIN": ("G15-TT01", "Viễn thông và Internet"),
    "TSVT": ("G15-TT02", "Tần số vô tuyến điện"),
    "ATBX": ("G15-KH04", "An toàn bức xạ và hạt nhân"),
}

WD = "working_days"
CD = "calendar_days"
WH = "working_hours"

# fmt: off
PROCEDURE_ROWS: tuple[tuple[str, str, str, float, str, str, str, bool], ...] = (
    ("KHCN", "QLKH", "Đăng ký thông tin kết quả nhiệm vụ khoa học và công nghệ sử dụng ngân sách nhà nước", 5, WD, "", "full", True),
    ("KHCN", "QLKH", "Đăng ký thông tin kết quả nhiệm vụ khoa học và công nghệ không sử dụng ngân sách nhà nước", 5, WD, "", "full", True),
    ("KHCN", "QLKH", "Cấp Giấy chứng nhận đăng ký hoạt động lần đầu cho tổ chức khoa học và công nghệ", 15, WD, "500.000 đồng", "full", True),
    ("KHCN", "QLKH", "Cấp Giấy chứng nhận đăng ký thay đổi, bổ sung hoạt động của tổ chức khoa học và công nghệ", 10, WD, "250.000 đồng", "full", True),
    ("KHCN", "QLKH", "Cấp lại Giấy chứng nhận đăng ký hoạt động của tổ chức khoa học và công nghệ", 5, WD, "250.000 đồng", "full", True),
    ("KHCN", "QLKH", "Cấp Giấy chứng nhận đăng ký hoạt động cho văn phòng đại diện, chi nhánh của tổ chức khoa học và công nghệ", 15, WD, "500.000 đồng", "full", True),
    ("KHCN", "QLKH", "Cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ", 7, WD, "", "full", True),
    ("KHCN", "QLKH", "Thay đổi, bổ sung nội dung Giấy chứng nhận doanh nghiệp khoa học và công nghệ", 7, WD, "", "full", True),
    ("KHCN", "QLKH", "Cấp lại Giấy chứng nhận doanh nghiệp khoa học và công nghệ", 5, WD, "", "full", True),
    ("KHCN", "QLKH", "Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ không sử dụng ngân sách nhà nước", 10, WD, "", "full", True),
    ("KHCN", "QLKH", "Xác định nhiệm vụ khoa học và công nghệ cấp tỉnh sử dụng ngân sách nhà nước", 30, CD, "", "partial", False),
    ("KHCN", "QLKH", "Tuyển chọn, giao trực tiếp tổ chức và cá nhân chủ trì nhiệm vụ khoa học và công nghệ cấp tỉnh", 45, CD, "", "partial", False),
    ("KHCN", "QLKH", "Đánh giá, nghiệm thu kết quả thực hiện nhiệm vụ khoa học và công nghệ cấp tỉnh", 30, CD, "", "partial", False),
    ("KHCN", "QLKH", "Xét tặng giải thưởng khoa học và công nghệ cấp tỉnh", 60, CD, "", "partial", False),
    ("KHCN", "QLCN", "Đăng ký chuyển giao công nghệ (trừ trường hợp thuộc thẩm quyền của Bộ Khoa học và Công nghệ)", 7, WD, "Phí thẩm định: 0,1% tổng giá trị hợp đồng", "full", True),
    ("KHCN", "QLCN", "Đăng ký gia hạn, sửa đổi, bổ sung nội dung chuyển giao công nghệ", 5, WD, "Phí thẩm định: 0,1% tổng giá trị hợp đồng", "full", True),
    ("KHCN", "QLCN", "Cấp Giấy chứng nhận đăng ký hoạt động dịch vụ đánh giá, giám định công nghệ", 20, WD, "", "full", True),
    ("KHCN", "QLCN", "Có ý kiến về công nghệ đối với dự án đầu tư sử dụng vốn đầu tư công", 15, WD, "", "partial", False),
    ("KHCN", "QLCN", "Thẩm định công nghệ dự án đầu tư", 15, WD, "", "partial", False),
    ("KHCN", "QLCN", "Xác nhận hàng hóa sử dụng trực tiếp cho hoạt động ươm tạo công nghệ, ươm tạo doanh nghiệp khoa học và công nghệ", 10, WD, "", "full", True),
    ("KHCN", "QLCN", "Hỗ trợ doanh nghiệp nhỏ và vừa khởi nghiệp sáng tạo tham gia cuộc thi khởi nghiệp", 10, WD, "", "full", True),
    ("KHCN", "QLCN", "Công nhận kết quả nghiên cứu khoa học và phát triển công nghệ do tổ chức, cá nhân tự đầu tư", 30, CD, "", "partial", True),
    ("SHTT", "QLCN", "Cấp Giấy chứng nhận tổ chức đủ điều kiện hoạt động giám định sở hữu công nghiệp", 15, WD, "300.000 đồng", "full", True),
    ("SHTT", "QLCN", "Cấp lại Giấy chứng nhận tổ chức đủ điều kiện hoạt động giám định sở hữu công nghiệp", 10, WD, "150.000 đồng", "full", True),
    ("SHTT", "QLCN", "Cấp Thẻ giám định viên sở hữu công nghiệp", 15, WD, "200.000 đồng", "full", True),
    ("SHTT", "QLCN", "Cấp lại Thẻ giám định viên sở hữu công nghiệp", 10, WD, "100.000 đồng", "full", True),
    ("SHTT", "QLCN", "Hỗ trợ đăng ký bảo hộ quyền sở hữu công nghiệp cho sản phẩm chủ lực của tỉnh", 20, WD, "", "partial", True),
    ("SHTT", "QLCN", "Cho phép tổ chức, cá nhân sử dụng chỉ dẫn địa lý của tỉnh", 10, WD, "", "full", True),
    ("SHTT", "QLCN", "Cho phép sử dụng nhãn hiệu chứng nhận, nhãn hiệu tập thể của tỉnh", 10, WD, "", "full", True),
    ("TDC", "TDC", "Đăng ký công bố hợp chuẩn dựa trên kết quả chứng nhận hợp chuẩn của tổ chức chứng nhận", 3, WD, "150.000 đồng", "full", True),
    ("TDC", "TDC", "Đăng ký công bố hợp chuẩn dựa trên kết quả tự đánh giá của tổ chức, cá nhân sản xuất, kinh doanh", 3, WD, "150.000 đồng", "full", True),
    ("TDC", "TDC", "Đăng ký công bố hợp quy đối với sản phẩm, hàng hóa sản xuất trong nước", 5, WD, "150.000 đồng", "full", True),
    ("TDC", "TDC", "Kiểm tra nhà nước về chất lượng hàng hóa nhóm 2 nhập khẩu", 1, WD, "", "full", False),
    ("TDC", "TDC", "Miễn giảm kiểm tra chất lượng hàng hóa nhóm 2 nhập khẩu", 5, WD, "", "full", True),
    ("TDC", "TDC", "Đăng ký kiểm tra nhà nước về đo lường đối với phương tiện đo nhập khẩu", 8, WH, "", "full", False),
    ("TDC", "TDC", "Kiểm tra nhà nước về đo lường đối với lượng của hàng đóng gói sẵn nhập khẩu", 8, WH, "", "full", False),
    ("TDC", "TDC", "Chứng nhận chuẩn đo lường để kiểm định, hiệu chuẩn, thử nghiệm phương tiện đo", 10, WD, "300.000 đồng", "partial", True),
    ("TDC", "TDC", "Điều chỉnh nội dung của chứng chỉ chứng nhận chuẩn đo lường", 5, WD, "150.000 đồng", "full", True),
    ("TDC", "TDC", "Chứng nhận, cấp thẻ kiểm định viên đo lường", 10, WD, "", "full", True),
    ("TDC", "TDC", "Cấp lại thẻ kiểm định viên đo lường", 5, WD, "", "full", True),
    ("TDC", "TDC", "Xét tặng giải thưởng chất lượng sản phẩm, hàng hóa của tỉnh", 30, CD, "", "partial", False),
    ("TDC", "TDC", "Đăng ký tham dự sơ tuyển, xét tặng Giải thưởng Chất lượng quốc gia", 30, CD, "", "partial", False),
    ("TDC", "TDC", "Cấp giấy xác nhận đăng ký hoạt động xét tặng giải thưởng chất lượng của tổ chức, cá nhân", 5, WD, "", "full", True),
    ("TDC", "TDC", "Kiểm tra nhà nước về nhãn hàng hóa lưu thông trên thị trường", 4, WH, "", "none", False),
    ("VTIN", "BCVT", "Cấp giấy phép xây dựng công trình hạ tầng kỹ thuật viễn thông thụ động", 10, WD, "", "partial", True),
    ("VTIN", "BCVT", "Cấp giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng", 7, WD, "200.000 đồng", "full", True),
    ("VTIN", "BCVT", "Sửa đổi, bổ sung giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng", 5, WD, "100.000 đồng", "full", True),
    ("VTIN", "BCVT", "Gia hạn giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng", 5, WD, "100.000 đồng", "full", True),
    ("VTIN", "BCVT", "Cấp lại giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng", 5, WD, "100.000 đồng", "full", True),
    ("VTIN", "BCVT", "Cấp giấy phép hoạt động bưu chính nội tỉnh", 10, WD, "Phí thẩm định: 2.500.000 đồng", "full", True),
    ("VTIN", "BCVT", "Sửa đổi, bổ sung giấy phép hoạt động bưu chính nội tỉnh", 7, WD, "1.000.000 đồng", "full", True),
    ("VTIN", "BCVT", "Cấp lại giấy phép hoạt động bưu chính khi hết hạn", 10, WD, "2.500.000 đồng", "full", True),
    ("VTIN", "BCVT", "Cấp văn bản xác nhận thông báo hoạt động bưu chính", 7, WD, "", "full", True),
    ("VTIN", "BCVT", "Cấp giấy phép thiết lập mạng viễn thông dùng riêng cho tổ chức trên địa bàn tỉnh", 15, WD, "Phí thẩm định: 1.000.000 đồng", "partial", True),
    ("VTIN", "BCVT", "Báo cáo số liệu thuê bao, doanh thu dịch vụ viễn thông trên địa bàn tỉnh", 2, WH, "", "none", False),
    ("TSVT", "BCVT", "Cấp giấy phép sử dụng tần số và thiết bị vô tuyến điện đối với đài tàu cá", 10, WD, "Lệ phí: 100.000 đồng", "full", True),
    ("TSVT", "BCVT", "Gia hạn giấy phép sử dụng tần số và thiết bị vô tuyến điện đối với đài tàu cá", 5, WD, "Lệ phí: 50.000 đồng", "full", True),
    ("TSVT", "BCVT", "Xác nhận khai báo thiết bị vô tuyến điện nghiệp dư", 5, WD, "", "full", True),
    ("TSVT", "BCVT", "Thông báo sử dụng tần số vô tuyến điện cho mạng nội bộ", 10, CD, "", "none", True),
    ("VTIN", "CDS", "Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp", 10, WD, "", "full", True),
    ("VTIN", "CDS", "Sửa đổi, bổ sung giấy phép thiết lập trang thông tin điện tử tổng hợp", 7, WD, "", "full", True),
    ("VTIN", "CDS", "Gia hạn giấy phép thiết lập trang thông tin điện tử tổng hợp", 5, WD, "", "full", True),
    ("VTIN", "CDS", "Cấp lại giấy phép thiết lập trang thông tin điện tử tổng hợp", 5, WD, "", "full", True),
    ("VTIN", "CDS", "Thông báo cung cấp dịch vụ trò chơi điện tử G2, G3, G4 trên mạng", 10, WD, "", "full", True),
    ("VTIN", "CDS", "Xác nhận hệ thống thông tin đạt cấp độ an toàn thông tin cấp độ 1, 2", 15, WD, "", "partial", False),
    ("ATBX", "QLCN", "Cấp giấy phép tiến hành công việc bức xạ - sử dụng thiết bị X-quang chẩn đoán trong y tế", 15, WD, "Phí thẩm định: 2.000.000 đồng/thiết bị", "full", True),
    ("ATBX", "QLCN", "Gia hạn giấy phép tiến hành công việc bức xạ - sử dụng thiết bị X-quang chẩn đoán trong y tế", 10, WD, "Phí thẩm định: 1.000.000 đồng/thiết bị", "full", True),
    ("ATBX", "QLCN", "Sửa đổi, bổ sung giấy phép tiến hành công việc bức xạ - sử dụng thiết bị X-quang chẩn đoán trong y tế", 10, WD, "", "full", True),
    ("ATBX", "QLCN", "Cấp lại giấy phép tiến hành công việc bức xạ - sử dụng thiết bị X-quang chẩn đoán trong y tế", 5, WD, "", "full", True),
    ("ATBX", "QLCN", "Cấp chứng chỉ nhân viên bức xạ cho người phụ trách an toàn cơ sở X-quang chẩn đoán trong y tế", 10, WD, "200.000 đồng", "full", True),
    ("ATBX", "QLCN", "Khai báo thiết bị X-quang chẩn đoán trong y tế", 3, WD, "", "full", True),
    ("ATBX", "QLCN", "Phê duyệt kế hoạch ứng phó sự cố bức xạ cấp cơ sở", 15, WD, "", "partial", False),
)
# fmt: on
